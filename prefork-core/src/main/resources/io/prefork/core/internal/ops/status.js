<script>
(function () {
  var body = document.body, text = document.getElementById('live-text');
  var button = document.getElementById('pause');
  var paused = false, since = null, refreshes = 0;
  function clock(d) { return d.toTimeString().slice(0, 8); }
  function refresh() {
    if (paused) return;
    fetch(location.href, {cache: 'no-store'}).then(function (r) {
      return r.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, 'text/html');
      var fresh = doc.getElementById('page');
      if (!fresh) throw new Error('not a status page');
      document.getElementById('page').replaceWith(fresh);
      document.title = doc.title;
      refreshes++;
      document.documentElement.setAttribute('data-refreshes', String(refreshes));
      since = null;
      body.classList.remove('stale');
      text.textContent = 'live · updated ' + clock(new Date());
    }).catch(function () {
      if (!since) since = new Date();
      body.classList.add('stale');
      text.textContent = 'no answer since ' + clock(since);
    });
  }
  button.addEventListener('click', function () {
    paused = !paused;
    body.classList.toggle('paused', paused);
    button.textContent = paused ? 'resume' : 'pause';
    text.textContent = paused ? 'paused' : 'live · every 2 s';
    if (!paused) refresh();
  });
  setInterval(refresh, 2000);
})();
</script>