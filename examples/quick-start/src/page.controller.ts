import { Controller, Get, Header } from '@nestjs/common';
import { Push, PushService } from 'nestjs-http2-push';

const page = (title: string, body: string) => `<!doctype html>
<title>${title}</title>
<link rel="stylesheet" href="/static/site.css">
<script src="/static/app.js" defer></script>
${body}`;

@Controller()
@Push('/static/site.css') // for every page of this controller
export class PageController {
  constructor(private readonly pushes: PushService) {}

  @Get('/')
  @Header('content-type', 'text/html; charset=utf-8')
  @Push('/static/app.js', { path: '/api/menu', headers: { accept: 'application/json' } })
  home() {
    return page('Home', '<nav id="menu"></nav>');
  }

  @Get('/account')
  @Header('content-type', 'text/html; charset=utf-8')
  account() {
    this.pushes.push('/api/profile', { accept: 'application/json' }); // promised now, before the headers
    return page('Account', '<nav id="menu"></nav><p id="profile"></p>');
  }

  @Get('/api/menu')
  menu() {
    return [{ href: '/', label: 'Home' }, { href: '/account', label: 'Account' }];
  }

  @Get('/api/profile')
  profile() {
    return { name: 'Ada Lovelace' };
  }
}
