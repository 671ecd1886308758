/**
 * The README's quick start, as a user runs it: examples/quick-start compiled against the packed tarball
 * and started with `node dist/main.js`, over h2c and over TLS with the README's self-signed certificate.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect, fetchWithPushes, pushedPaths } from './support/h2-client';
import { createAppFolder, packPackage, ROOT, tsc, userEnv, type PackedPackage } from './support/packed-package';

const EXAMPLE = join(ROOT, 'examples', 'quick-start');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const README_TS_BLOCKS = [...README.matchAll(/```ts\n([\s\S]*?)\n```/g)].map((block) => block[1]);
const SOURCES = ['src/main.ts', 'src/app.module.ts', 'src/page.controller.ts'];
/** The README's command for a development certificate. */
const OPENSSL = 'openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj /CN=localhost'
  + ' -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout key.pem -out cert.pem';
const { dependencies, devDependencies } = JSON.parse(readFileSync(join(EXAMPLE, 'package.json'), 'utf8'));

let pack: PackedPackage;
let app: { dir: string; remove(): void };

beforeAll(async () => {
  pack = packPackage();
  app = createAppFolder(pack.tarball, [...Object.keys(dependencies), ...Object.keys(devDependencies)]);
  for (const entry of ['src', 'public', 'tsconfig.json', 'package.json']) cpSync(join(EXAMPLE, entry), join(app.dir, entry), { recursive: true });
  await tsc(['-p', 'tsconfig.json'], app.dir);
  execFileSync(OPENSSL.split(' ')[0], OPENSSL.split(' ').slice(1), { cwd: app.dir, stdio: 'pipe' });
}, 180_000);

afterAll(() => {
  app?.remove();
  pack?.remove();
});

describe('the README', () => {
  it.each(SOURCES)('shows %s as it is in examples/quick-start', (file) => {
    expect(README_TS_BLOCKS).toContain(readFileSync(join(EXAMPLE, file), 'utf8').trimEnd());
  });

  it('installs what the example depends on, and names the certificate command the test runs', () => {
    const install = /^npm install (nestjs-http2-push .*)$/m.exec(README)?.[1].split(' ').sort();
    expect(install).toEqual(Object.keys(dependencies).sort());
    expect(README).toContain(OPENSSL);
  });
});

describe.each([
  { transport: 'h2c', tls: false },
  { transport: 'TLS', tls: true },
])('the quick start over $transport', ({ tls }) => {
  let server: ChildProcess;
  let url: string;
  let stderr = '';
  beforeAll(async () => {
    const env = userEnv({ PORT: '0', ...(tls ? { TLS_KEY: 'key.pem', TLS_CERT: 'cert.pem' } : {}) });
    server = spawn(process.execPath, ['dist/main.js'], { cwd: app.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stderr!.on('data', (chunk) => (stderr += chunk));
    url = await new Promise((resolve, reject) => {
      let stdout = '';
      server.stdout!.on('data', (chunk) => {
        stdout += chunk;
        const listening = /Listening on (\S+)/.exec(stdout);
        if (listening) resolve(listening[1]);
      });
      server.once('exit', (code) => reject(new Error(`exited with ${code}: ${stdout}${stderr}`)));
    });
  }, 60_000);
  afterAll(() => server?.kill());

  it('serves / as HTML and pushes its stylesheet, script and menu data before the page', async () => {
    const client = await connect(url);
    const page = await fetchWithPushes(client, '/');
    client.close();
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(pushedPaths(page)).toEqual(['/static/site.css', '/static/app.js', '/api/menu']);
    expect(page.events.slice(0, 4)).toEqual(['promise /static/site.css', 'promise /static/app.js', 'promise /api/menu', 'response']);
    const [css, js, menu] = page.pushes;
    expect(css.body).toBe(readFileSync(join(EXAMPLE, 'public', 'site.css'), 'utf8'));
    expect(js.body).toBe(readFileSync(join(EXAMPLE, 'public', 'app.js'), 'utf8'));
    expect(JSON.parse(menu.body)).toEqual([{ href: '/', label: 'Home' }, { href: '/account', label: 'Account' }]);
    for (const pushed of page.pushes) expect(pushed.status).toBe(200);
  });

  it('pushes /api/profile from the /account handler', async () => {
    const client = await connect(url);
    const page = await fetchWithPushes(client, '/account');
    client.close();
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(pushedPaths(page)).toEqual(['/static/site.css', '/api/profile']);
    expect(JSON.parse(page.pushes[1].body)).toEqual({ name: 'Ada Lovelace' });
  });

  if (tls) {
    it('answers HTTP/1.1 with the page and a 103 Early Hints naming what it would have pushed', async () => {
      const hints: string[] = [];
      const response = await new Promise<{ status?: number; type?: string }>((resolve, reject) => {
        const req = request(`${url}/`, { rejectUnauthorized: false }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'] }));
        });
        req.on('information', (info) => hints.push(`${info.statusCode} ${info.headers.link}`));
        req.on('error', reject);
        req.end();
      });
      expect(response).toEqual({ status: 200, type: 'text/html; charset=utf-8' });
      expect(hints).toHaveLength(1);
      expect(hints[0]).toMatch(/^103 <\/static\/site\.css>; rel=preload; as=style, <\/static\/app\.js>; rel=preload; as=script/);
    });
  } else {
    it('speaks only HTTP/2: curl --http1.1 gets no HTTP/1.1 response ("HTTP/0.9")', async () => {
      const curl = await promisify(execFile)('curl', ['-sS', '--http1.1', `${url}/`]).catch((error) => error);
      expect(curl.code).toBeGreaterThan(0);
      expect(curl.stderr).toMatch(/HTTP\/0\.9/);
    });
  }

  it('prints no warning', () => {
    expect(stderr).toBe('');
  });
});
