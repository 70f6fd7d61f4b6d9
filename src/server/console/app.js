// The admin console's logic: polls the signed admin API of the listener that served the page and
// renders rooms, a room's users and streams, with buttons for KickoutUser, ForbidRTCStream and
// CloseRoom (contract §5, §7.3, §9). Every text that comes from the server (room, user and stream
// ids, names, extra info: all chosen by clients) is written with textContent, never as HTML.
'use strict';
(function () {
  const POLL_MS = 1000;
  const appId = document.body.dataset.appId;
  const $ = (id) => document.getElementById(id);

  // The operator's secret: only in this variable (never stored, never sent: requests carry
  // md5(AppId + SignatureNonce + ServerSecret + Timestamp) instead).
  let secret = null;
  let selected = null;
  let timer = null;
  let inFlight = false;

  function nonce() {
    const bytes = new Uint8Array(8);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  // Calls one admin action; resolves with its Data, rejects with an Error carrying the Code.
  async function call(action, params) {
    const ts = String(Math.floor(Date.now() / 1000));
    const n = nonce();
    const q = new URLSearchParams();
    q.append('Action', action);
    q.append('AppId', appId);
    q.append('SignatureNonce', n);
    q.append('Timestamp', ts);
    q.append('Signature', window.md5(appId + n + secret + ts));
    q.append('SignatureVersion', '2.0');
    for (const [k, v] of params || []) q.append(k, v);
    const resp = await fetch('/?' + q.toString(), { cache: 'no-store', credentials: 'omit' });
    if (!resp.ok) throw new Error(action + ': HTTP ' + resp.status);
    const body = await resp.json();
    if (body.Code !== 0) {
      const e = new Error(action + ': ' + body.Message + ' (Code ' + body.Code + ')');
      e.code = body.Code;
      throw e;
    }
    return body.Data;
  }

  function setStatus(kind, text) {
    const s = $('status');
    s.className = kind;
    s.textContent = text;
  }

  function log(text, failed) {
    const li = document.createElement('li');
    if (failed) li.className = 'failed';
    li.textContent = new Date().toLocaleTimeString() + '  ' + text;
    const list = $('log');
    list.prepend(li);
    while (list.children.length > 20) list.lastChild.remove();
  }

  function cell(text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  function button(label, title, cls, onClick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.title = title;
    b.setAttribute('aria-label', title);
    if (cls) b.className = cls;
    b.addEventListener('click', onClick);
    return b;
  }

  function fill(tbody, rows) {
    tbody.replaceChildren(...rows);
  }

  function renderRooms(list) {
    const rows = list.map((r) => {
      const tr = document.createElement('tr');
      tr.dataset.roomId = r.RoomId;
      if (r.RoomId === selected) tr.className = 'selected';
      tr.append(cell(r.RoomId), cell(String(r.UserCount), 'num'), cell(String(r.StreamCount), 'num'));
      tr.tabIndex = 0;
      tr.addEventListener('click', () => select(r.RoomId));
      tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') select(r.RoomId); });
      return tr;
    });
    fill($('rooms').tBodies[0], rows);
    $('no-rooms').hidden = list.length > 0;
  }

  function renderRoom(users, streams) {
    $('room-pane').hidden = false;
    $('room-id').textContent = selected;
    $('user-count').textContent = '(' + users.length + ')';
    fill($('users').tBodies[0], users.map((u) => {
      const tr = document.createElement('tr');
      tr.dataset.userId = u.UserId;
      const act = document.createElement('td');
      act.append(button('Kick', 'KickoutUser ' + u.UserId, 'danger', () => kick(u.UserId)));
      tr.append(cell(u.UserId), cell(u.UserName), act);
      return tr;
    }));
    fill($('streams').tBodies[0], streams.map((s) => {
      const tr = document.createElement('tr');
      tr.dataset.streamId = s.StreamId;
      const act = document.createElement('td');
      act.append(button('Forbid', 'ForbidRTCStream ' + s.StreamId, 'danger', () => forbid(s.StreamId)));
      const since = s.CreateTime ? new Date(s.CreateTime * 1000).toLocaleTimeString() : '';
      tr.append(cell(s.StreamId), cell(s.UserId), cell(s.ExtraInfo, 'extra'), cell(since), act);
      return tr;
    }));
    $('no-streams').hidden = streams.length > 0;
  }

  async function refresh() {
    if (inFlight || secret === null) return;
    inFlight = true;
    try {
      const rooms = await call('DescribeRooms');
      renderRooms(rooms.RoomList);
      if (selected !== null) {
        const room = selected;
        const [users, streams] = await Promise.all([
          call('DescribeUsers', [['RoomId', room]]),
          call('DescribeSimpleStreamList', [['RoomId', room]]),
        ]);
        if (room === selected) renderRoom(users.UserList, streams.StreamList);
      }
      setStatus('ok', 'Connected · updated ' + new Date().toLocaleTimeString());
    } catch (e) {
      setStatus('error', e.message);
      if (e.code === 100000005 || e.code === 100000010) stop();
    } finally {
      inFlight = false;
    }
  }

  function stop() {
    clearInterval(timer);
    timer = null;
    secret = null;
  }

  function select(room) {
    selected = room;
    refresh();
  }

  async function act(what, action, params) {
    try {
      await call(action, params);
      log(what + ': success');
    } catch (e) {
      log(e.message, true);
    }
    refresh();
  }

  function kick(user) {
    act('KickoutUser ' + user + ' from ' + selected, 'KickoutUser', [['RoomId', selected], ['UserId[]', user]]);
  }

  function forbid(stream) {
    act('ForbidRTCStream ' + stream, 'ForbidRTCStream', [['StreamId', stream]]);
  }

  $('close-room').addEventListener('click', () => {
    const room = selected;
    if (room === null || !window.confirm('Close room ' + room + '? Every user in it is kicked out.')) return;
    act('CloseRoom ' + room, 'CloseRoom', [['RoomId', room]]);
  });

  $('login').addEventListener('submit', (e) => {
    e.preventDefault();
    stop();
    secret = $('secret').value;
    $('secret').value = '';
    setStatus('idle', 'Connecting…');
    refresh();
    timer = setInterval(refresh, POLL_MS);
  });
})();
