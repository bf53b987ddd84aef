/* global window, location */
// `ferry serve` only: opens the API's WebSocket and asks for what the window shows first (the queue's
// first page, the catalog, the totals) while the main bundle is still loading and being evaluated,
// which takes a few hundred milliseconds. The bundle's transport (renderer/transport/wsTransport.ts,
// `adoptEarlySocket`) takes over this socket, the answers that arrived and the ones still to come, so
// the first render already has the rows. The socket is the same authenticated one the transport opens
// itself (token in the query, origin and host checked by the server), so nothing is served any other
// way. In the desktop app (IPC bridge) and without a token this does nothing; whatever goes wrong here,
// the transport simply opens its own socket and asks again.
(function () {
  if (window.ferry || window.__ferryEarly !== undefined) return;
  var token;
  try {
    token = new URL(location.href).searchParams.get('token') || sessionStorage.getItem('ferry.token');
  } catch {
    token = null;
  }
  if (!token) return;
  // Must equal what the store asks for (a unit test compares them): jobs.list with the default filter
  // and PAGE_SIZE rows, the four catalog commands, the summary and the watched folders.
  var requests = [
    { id: -1, command: 'jobs.list', input: { limit: 200, offset: 0 } },
    { id: -2, command: 'app.status' },
    { id: -3, command: 'providers.list' },
    { id: -4, command: 'accounts.list' },
    { id: -5, command: 'settings.get' },
    { id: -6, command: 'jobs.summary' },
    { id: -7, command: 'sync.list' },
  ];
  var early = { socket: null, requests: requests, frames: [] };
  try {
    early.socket = new WebSocket(location.origin.replace(/^http/, 'ws') + '/api/ws?token=' + encodeURIComponent(token));
  } catch {
    return;
  }
  early.socket.onopen = function () {
    for (var i = 0; i < requests.length; i += 1) early.socket.send(JSON.stringify(requests[i]));
    early.sent = true;
  };
  early.socket.onmessage = function (message) {
    early.frames.push(message.data);
  };
  window.__ferryEarly = early;
})();
