// Supply Hub console. The dashboard's panels refresh every 5 s while the page is visible and the
// person used it within half the session's idle timeout: each refresh is a request that keeps the
// session alive, so an unattended screen must stop asking, or its session would never end. Any key,
// click or mouse move refreshes at once and resumes. A refresh answered by anything but a fragment
// (the session ended) reloads the page instead of pasting a sign-in page into a table.
(function () {
  'use strict';
  var meta = document.querySelector('meta[name="console-idle-seconds"]');
  var idleSeconds = meta ? parseInt(meta.getAttribute('content'), 10) || 900 : 900;
  var windowMs = idleSeconds * 1000 / 2;
  var lastActivity = Date.now();

  // every htmx request sends the session's CSRF token as a header (Spring refuses a POST without it)
  var csrfToken = document.querySelector('meta[name="_csrf"]');
  var csrfHeader = document.querySelector('meta[name="_csrf_header"]');
  document.addEventListener('htmx:configRequest', function (event) {
    if (csrfToken && csrfHeader) {
      event.detail.headers[csrfHeader.getAttribute('content')] = csrfToken.getAttribute('content');
    }
  });
  var paused = false;

  function state(text) {
    var el = document.getElementById('refresh-state');
    if (el) { el.textContent = text; }
  }

  function refresh() {
    document.querySelectorAll('[data-refresh]').forEach(function (panel) {
      // keep a person's keyboard focus: no refresh while they are inside the panel
      if (!panel.contains(document.activeElement)) {
        window.htmx.trigger(panel, 'refresh');
      }
    });
  }

  ['keydown', 'mousedown', 'mousemove', 'touchstart', 'scroll'].forEach(function (type) {
    document.addEventListener(type, function () {
      lastActivity = Date.now();
      if (paused && window.htmx && document.querySelector('[data-refresh]')) {
        paused = false;
        state('Refreshes every 5 seconds while you use this page.');
        refresh();
      }
    }, { passive: true });
  });

  setInterval(function () {
    if (!window.htmx || document.visibilityState !== 'visible' || !document.querySelector('[data-refresh]')) {
      return;
    }
    if (Date.now() - lastActivity > windowMs) {
      if (!paused) {
        paused = true;
        state('Refresh paused: no use for ' + Math.round(windowMs / 60000 * 10) / 10
            + ' min (the session ends after ' + Math.round(idleSeconds / 60 * 10) / 10
            + ' min without use). Press a key or move the mouse to resume.');
      }
      return;
    }
    refresh();
  }, 5000);

  document.addEventListener('htmx:beforeSwap', function (e) {
    var url = e.detail.xhr && e.detail.xhr.responseURL;
    if (!url || url.indexOf('/console/fragments/') < 0 || e.detail.xhr.status !== 200) {
      e.detail.shouldSwap = false;
      window.location.reload();
    }
  });
})();
