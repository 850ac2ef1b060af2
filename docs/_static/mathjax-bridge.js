// MathJax 2 -> 3 bridge. The widget html-manager calls MathJax.Hub.Queue (a MathJax 2 API);
// once MathJax 3 is ready, map it onto typesetPromise so math inside widgets is typeset too.
(function () {
  function bridge() {
    MathJax.Hub = MathJax.Hub || {
      Queue: function () { if (MathJax.typesetPromise) MathJax.typesetPromise().catch(function (e) { console.warn(e); }); },
      Config: function () {}
    };
  }
  if (window.MathJax && window.MathJax.version) { bridge(); return; }
  var cfg = window.MathJax || {};
  cfg.startup = cfg.startup || {};
  var prev = cfg.startup.ready;
  cfg.startup.ready = function () { if (prev) prev(); else MathJax.startup.defaultReady(); bridge(); };
  window.MathJax = cfg;
})();
