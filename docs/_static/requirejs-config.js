// Point the widget loaders at the copies vendored into _static/vendor, so nothing comes from a CDN.
(function () {
  var base = new URL('vendor/', document.currentScript.src).href;
  require.config({
    paths: {
      '@jupyter-widgets/html-manager': base + 'html-manager',
      'anywidget': base + 'anywidget/index'
    }
  });
})();
