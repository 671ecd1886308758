document.getElementById('status').textContent = 'app.js ran: open DevTools > Network to see the pushed files.';
