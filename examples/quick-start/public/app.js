// The data the page needs: pushed with it, so a client that takes pushes has it before it asks.
fetch('/api/menu').then((r) => r.json()).then((links) => {
  document.getElementById('menu').innerHTML = links.map((l) => `<a href="${l.href}">${l.label}</a>`).join('');
});
const profile = document.getElementById('profile');
if (profile) fetch('/api/profile').then((r) => r.json()).then((p) => (profile.textContent = p.name));
