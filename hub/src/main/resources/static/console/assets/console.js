// Supply Hub console: refresh the dashboard's panels every 5 s while the page is visible and the
// person has been active in the last 14 minutes, so an unattended screen lets the session's idle
// timeout end it. A refresh answered by anything but a fragment (the session ended: a sign-in page)
// reloads the page instead of pasting it into a table.
(function () {
  'use strict';
  var IDLE_MS = 14 * 60 * 1000;
  var lastActivity = Date.now();
  ['keydown', 'mousedown', 'mousemove', 'touchstart', 'scroll'].forEach(function (type) {
    document.addEventListener(type, function () { lastActivity = Date.now(); }, { passive: true });
  });
  setInterval(function () {
    if (!window.htmx || document.visibilityState !== 'visible' || Date.now() - lastActivity > IDLE_MS) {
      return;
    }
    document.querySelectorAll('[data-refresh]').forEach(function (panel) {
      // keep a person's keyboard focus: no refresh while they are inside the panel
      if (!panel.contains(document.activeElement)) {
        window.htmx.trigger(panel, 'refresh');
      }
    });
  }, 5000);
  document.addEventListener('htmx:beforeSwap', function (e) {
    var url = e.detail.xhr && e.detail.xhr.responseURL;
    if (!url || url.indexOf('/console/fragments/') < 0 || e.detail.xhr.status !== 200) {
      e.detail.shouldSwap = false;
      window.location.reload();
    }
  });
})();
