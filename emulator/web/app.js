// wxkit emulator — the WeChat-like chat page.
//
// It drives the emulator's control API:
//   GET  /_emulator/apps                          apps and their users
//   POST /_emulator/apps/{appid}/push             the user sends something → PushResult
//   GET  /_emulator/apps/{appid}/messages?user=   the conversation log (polled every 2 s)
//   GET  /ui/api/menu?appid=&user=                the custom menu the user sees
//   POST /ui/api/click                            the user taps a menu button → PushResult
//
// Every piece of server data is rendered with textContent (or set as a
// property after checking it), never parsed as HTML.
'use strict';

(() => {
  const SVGNS = 'http://www.w3.org/2000/svg';
  const POLL_MS = 2000;
  const GAP_MS = 5 * 60 * 1000; // WeChat shows a time label after 5 minutes of silence
  const UNAVAILABLE = '该公众号暂时无法提供服务，请稍后再试';

  const S = {
    apps: [],
    appId: '',
    user: '',
    log: [],
    logKey: '',
    menu: null, // {menuid, button:[...]} or null
    menuKey: '',
    mode: 'menu', // 'menu' | 'input' (when the account has a menu)
    pending: [], // texts being sent: {id, appId, user, text, state, error}
    seq: 0,
    last: null, // the last PushResult
    selected: -1, // index into log shown in the dev drawer, -1: the last push
    draft: '',
    forceBottom: true,
    openSub: -1,
    polling: false,
    tick: 0,
  };

  // ---------- small DOM helpers ----------

  const $ = (id) => document.getElementById(id);

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function icon(id, cls) {
    const s = document.createElementNS(SVGNS, 'svg');
    if (cls) s.setAttribute('class', cls);
    s.setAttribute('aria-hidden', 'true');
    const u = document.createElementNS(SVGNS, 'use');
    u.setAttribute('href', '#' + id);
    s.appendChild(u);
    return s;
  }

  // safeURL returns u when it is an absolute http(s) URL, else ''.
  function safeURL(u) {
    if (typeof u !== 'string' || u === '') return '';
    try {
      const p = new URL(u);
      return p.protocol === 'http:' || p.protocol === 'https:' ? p.href : '';
    } catch (_) {
      return '';
    }
  }

  async function api(method, url, body) {
    const opt = { method, headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      opt.headers['Content-Type'] = 'application/json';
      opt.body = JSON.stringify(body);
    }
    const r = await fetch(url, opt);
    let data = null;
    try {
      data = await r.json();
    } catch (_) {
      /* not JSON */
    }
    if (!r.ok) {
      const err = new Error((data && data.error) || 'HTTP ' + r.status);
      err.status = r.status;
      err.data = data;
      throw err;
    }
    return data;
  }

  let toastTimer = 0;
  function toast(text, ms) {
    const t = $('toast');
    t.textContent = text;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, ms || 2600);
  }

  // ---------- time ----------

  let fmtHM, fmtDay, fmtYear;
  try {
    const tz = { timeZone: 'Asia/Shanghai' };
    fmtHM = new Intl.DateTimeFormat('zh-CN', { ...tz, hour: '2-digit', minute: '2-digit', hour12: false });
    fmtDay = new Intl.DateTimeFormat('zh-CN', { ...tz, month: 'numeric', day: 'numeric' });
    fmtYear = new Intl.DateTimeFormat('zh-CN', { ...tz, year: 'numeric' });
  } catch (_) {
    fmtHM = new Intl.DateTimeFormat('zh-CN', { hour: '2-digit', minute: '2-digit', hour12: false });
    fmtDay = new Intl.DateTimeFormat('zh-CN', { month: 'numeric', day: 'numeric' });
    fmtYear = new Intl.DateTimeFormat('zh-CN', { year: 'numeric' });
  }

  // fmtTime formats like WeChat: "14:05" today, "3月1日 14:05" this year,
  // "2024年3月1日 14:05" before.
  function fmtTime(ms, nowMs) {
    const d = new Date(ms);
    const now = new Date(nowMs);
    const hm = fmtHM.format(d);
    if (fmtDay.format(d) === fmtDay.format(now) && fmtYear.format(d) === fmtYear.format(now)) return hm;
    const day = fmtDay.format(d).replace(/\//g, '月').replace(/(\d+)$/, '$1日');
    if (fmtYear.format(d) === fmtYear.format(now)) return day + ' ' + hm;
    return fmtYear.format(d).replace(/年?$/, '年') + day + ' ' + hm;
  }

  function tickClock() {
    $('sb-time').textContent = fmtHM.format(new Date()).replace(/^0/, '');
  }

  // ---------- apps and users ----------

  const PALETTE = ['#5C8DE5', '#F0A04B', '#9B7FD1', '#E3685C', '#4FB3BF', '#7CB35B', '#D9739B'];

  function colorFor(s) {
    let h = 0;
    for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
    return PALETTE[h % PALETTE.length];
  }

  function firstChar(s) {
    const c = Array.from(String(s || '?').trim())[0] || '?';
    return c.toUpperCase();
  }

  const currentApp = () => S.apps.find((a) => a.appid === S.appId) || null;
  const currentUser = () => {
    const a = currentApp();
    return (a && a.users.find((u) => u.openid === S.user)) || null;
  };
  const appName = (a) => (a ? a.name || a.original_id || a.appid : '公众号');

  function userAvatar(u) {
    const name = (u && (u.nickname || u.openid)) || '我';
    const av = el('div', 'avatar', firstChar(name));
    av.style.background = colorFor((u && u.openid) || name);
    return av;
  }

  function acctAvatar() {
    const a = currentApp();
    return el('div', 'avatar acct', firstChar(appName(a)));
  }

  async function loadApps() {
    const data = await api('GET', '/_emulator/apps');
    S.apps = (data && data.apps) || [];
    if (!currentApp()) S.appId = S.apps.length ? S.apps[0].appid : '';
    const a = currentApp();
    if (a && !a.users.some((u) => u.openid === S.user)) S.user = a.users.length ? a.users[0].openid : '';
  }

  function renderSide() {
    const sel = $('app-select');
    sel.replaceChildren();
    for (const a of S.apps) {
      const o = el('option', '', appName(a) + ' · ' + a.appid);
      o.value = a.appid;
      o.selected = a.appid === S.appId;
      sel.appendChild(o);
    }
    const a = currentApp();
    const meta = $('app-meta');
    meta.replaceChildren();
    if (a) {
      for (const [k, v] of [['原始 ID', a.original_id], ['模式', a.mode], ['推送 URL', a.push_url || '（未配置）']]) {
        meta.append(el('dt', '', k), el('dd', '', v));
      }
    }
    const ul = $('users');
    ul.replaceChildren();
    for (const u of (a && a.users) || []) {
      const li = el('li', u.openid === S.user ? 'active' : '');
      li.tabIndex = 0;
      const text = el('div', 'u-text');
      text.append(el('div', 'u-name', u.nickname || '（无昵称）'), el('div', 'u-id', u.openid));
      li.append(userAvatar(u), text, el('span', u.subscribed ? 'tag' : 'tag off', u.subscribed ? '已关注' : '未关注'));
      if (u.blacklisted) li.appendChild(el('span', 'tag black', '黑名单'));
      const pick = () => selectUser(u.openid);
      li.addEventListener('click', pick);
      li.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') pick(); });
      ul.appendChild(li);
    }
    $('nav-title').textContent = appName(a);
    const u = currentUser();
    $('ev-subscribe').disabled = !u || u.subscribed;
    $('ev-unsubscribe').disabled = !u || !u.subscribed;
    location.replace('#' + encodeURIComponent(S.appId) + '/' + encodeURIComponent(S.user));
  }

  function selectUser(openid) {
    if (openid === S.user) return;
    S.user = openid;
    resetConversation();
  }

  function resetConversation() {
    closeWebview();
    S.log = [];
    S.logKey = '';
    S.menu = null;
    S.menuKey = '';
    S.selected = -1;
    S.last = null;
    S.openSub = -1;
    S.forceBottom = true;
    renderSide();
    renderChat();
    renderFooter();
    renderDev();
    poll(true);
    loadSubTemplates();
  }

  // ---------- subscription notifications ----------

  // loadSubTemplates fills the subscription-template picker of an
  // Official Account (the panel is hidden for Mini Programs).
  async function loadSubTemplates() {
    const a = currentApp();
    const sel = $('sub-template');
    $('sub-panel').hidden = !a || a.type === 'miniprogram';
    if (!a || a.type === 'miniprogram') return;
    try {
      const data = await api('GET', '/_emulator/apps/' + encodeURIComponent(a.appid) + '/templates');
      sel.replaceChildren();
      for (const t of (data && data.subscribe_templates) || []) {
        const o = el('option', '', t.title + ' · ' + t.template_id.slice(0, 10) + '…');
        o.value = t.template_id;
        sel.appendChild(o);
      }
    } catch (e) {
      toast(e.message);
    }
  }

  // subscribePopup answers the subscription dialog as the current user.
  async function subscribePopup(accept, settings) {
    const id = $('sub-template').value;
    if (!S.appId || !S.user || !id) return;
    try {
      const res = await api('POST', '/_emulator/apps/' + encodeURIComponent(S.appId) + '/subscribe-popup',
        { openid: S.user, template_id: id, accept, settings });
      if (res.push) afterPush(res.push);
      else toast((accept ? '已允许' : '已拒收') + '（未配置推送 URL，事件未推送）');
    } catch (e) {
      toast(e.message);
    }
  }

  // ---------- polling ----------

  async function refreshLog() {
    if (!S.appId || !S.user) return;
    const url = '/_emulator/apps/' + encodeURIComponent(S.appId) + '/messages?user=' + encodeURIComponent(S.user);
    const want = S.appId + '/' + S.user;
    const data = await api('GET', url);
    if (want !== S.appId + '/' + S.user) return; // switched meanwhile
    const msgs = (data && data.messages) || [];
    const key = JSON.stringify(msgs);
    if (key === S.logKey) return;
    if (msgs.length > S.log.length) S.forceBottom = true;
    S.log = msgs;
    S.logKey = key;
    renderChat();
    if (S.selected >= 0 || !S.last) renderDev();
  }

  async function refreshMenu() {
    if (!S.appId || !S.user) return;
    const want = S.appId + '/' + S.user;
    const m = await api('GET', '/ui/api/menu?appid=' + encodeURIComponent(S.appId) + '&user=' + encodeURIComponent(S.user));
    if (want !== S.appId + '/' + S.user) return;
    const key = JSON.stringify(m);
    if (key === S.menuKey) return;
    S.menuKey = key;
    S.menu = m && m.button && m.button.length ? m : null;
    S.openSub = -1;
    renderFooter();
  }

  async function refreshApps() {
    const before = JSON.stringify(S.apps);
    await loadApps();
    if (JSON.stringify(S.apps) !== before) {
      renderSide();
      renderFooter();
    }
  }

  async function poll(now) {
    if (S.polling && !now) return;
    S.polling = true;
    try {
      S.tick++;
      // The menu route is a platform path (counted in /_emulator/stats):
      // poll it every 10 s only.
      const jobs = [refreshLog()];
      if (now || S.tick % 5 === 0) jobs.push(refreshMenu());
      if (now || S.tick % 3 === 0) jobs.push(refreshApps());
      await Promise.all(jobs);
    } catch (e) {
      /* the emulator may be restarting: try again on the next tick */
    } finally {
      S.polling = false;
    }
  }

  // ---------- the conversation ----------

  // parseXML parses xml as an XML document, or returns null when it is
  // not one. Bodies such as "success" or "" (no reply) are never handed to
  // DOMParser: its parser-error document carries inline styles, which the
  // page's Content-Security-Policy refuses with a console error.
  function parseXML(xml) {
    if (typeof xml !== 'string' || !/^\s*</.test(xml)) return null;
    const doc = new DOMParser().parseFromString(xml, 'application/xml');
    if (doc.getElementsByTagName('parsererror').length) return null;
    return doc;
  }

  // xmlFields reads the text elements of a pushed message's XML.
  function xmlFields(xml) {
    const out = {};
    const doc = parseXML(xml);
    if (!doc) return out;
    for (const n of Array.from(doc.documentElement.children)) out[n.tagName] = n.textContent;
    return out;
  }

  // xmlAll returns the text of every element named tag in xml, at any depth.
  function xmlAll(xml, tag) {
    const doc = parseXML(xml);
    if (!doc) return [];
    return Array.from(doc.getElementsByTagName(tag)).map((n) => n.textContent);
  }

  function row(dir, content, opts) {
    const r = el('div', 'row ' + (dir === 'in' ? 'out' : 'in'));
    // Direction "in" is from the user: the user's own message, on the right.
    r.appendChild(dir === 'in' ? userAvatar(currentUser()) : acctAvatar());
    const m = el('div', 'msg');
    m.appendChild(content);
    if (opts && opts.state === 'sending') m.appendChild(el('span', 'spinner'));
    if (opts && opts.state === 'failed') {
      const f = icon('i-fail', 'state');
      if (opts.error) f.appendChild(Object.assign(document.createElementNS(SVGNS, 'title'), { textContent: opts.error }));
      m.appendChild(f);
    }
    r.appendChild(m);
    return r;
  }

  // textWithLinks fills node with text, turning WeChat's <a href="...">label</a>
  // markup of text replies into links (built as elements, never as HTML).
  function textWithLinks(node, text) {
    const re = /<a\s+href\s*=\s*(["'])([^"']*)\1[^>]*>([\s\S]*?)<\/a>/gi;
    let last = 0;
    let m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) node.appendChild(document.createTextNode(text.slice(last, m.index)));
      const href = safeURL(m[2]);
      if (href) {
        const a = el('a', '', m[3]);
        a.href = href;
        a.addEventListener('click', (ev) => { ev.preventDefault(); openWebview('', href); });
        node.appendChild(a);
      } else {
        node.appendChild(document.createTextNode(m[0]));
      }
      last = re.lastIndex;
    }
    if (last < text.length) node.appendChild(document.createTextNode(text.slice(last)));
  }

  function bubble(text, links) {
    const b = el('div', 'bubble');
    if (links) textWithLinks(b, text);
    else b.textContent = text;
    return b;
  }

  function pic(url, iconId) {
    const p = el('div', 'pic');
    const src = safeURL(url);
    p.appendChild(icon(iconId || 'i-image'));
    if (src) {
      const img = document.createElement('img');
      img.alt = '';
      img.referrerPolicy = 'no-referrer';
      img.loading = 'lazy';
      img.addEventListener('load', () => { p.replaceChildren(img); });
      img.src = src;
    }
    return p;
  }

  function caption(label, value) {
    const c = el('div', 'cap');
    c.append(el('b', '', label), document.createTextNode(value || ''));
    return c;
  }

  function newsCard(articles) {
    const card = el('div', 'card news');
    const link = (node, a) => {
      const href = safeURL(a.url);
      if (!href) return node;
      const l = el('a');
      l.href = href;
      l.addEventListener('click', (ev) => { ev.preventDefault(); openWebview(a.title || '图文消息', href); });
      l.appendChild(node);
      return l;
    };
    if (articles.length === 1) {
      const a = articles[0];
      const one = el('div', 'n-one');
      one.appendChild(el('div', 'n-title', a.title || ''));
      const r = el('div', 'n-row');
      r.appendChild(el('div', 'n-desc', a.description || ''));
      const p = pic(a.pic_url);
      p.classList.add('n-thumb');
      r.appendChild(p);
      one.appendChild(r);
      card.appendChild(link(one, a));
      return card;
    }
    articles.forEach((a, i) => {
      if (i === 0) {
        const cover = el('div', 'n-cover');
        cover.append(pic(a.pic_url), el('div', 'n-title', a.title || ''));
        card.appendChild(link(cover, a));
        return;
      }
      const it = el('div', 'n-item');
      const p = pic(a.pic_url);
      p.classList.add('n-thumb');
      it.append(el('div', 'n-title', a.title || ''), p);
      card.appendChild(link(it, a));
    });
    return card;
  }

  function mediaCard(kind, rep) {
    switch (kind) {
      case 'image': {
        const c = el('div', 'card image');
        c.append(pic('', 'i-image'), caption('图片', rep.media_id ? 'media_id: ' + rep.media_id : ''));
        return c;
      }
      case 'voice': {
        const b = el('div', 'bubble voice');
        const line = el('div', 'v-line');
        line.append(icon('i-wave'), el('span', '', '语音'));
        b.appendChild(line);
        if (rep.media_id) b.appendChild(el('div', 'via', 'media_id: ' + rep.media_id));
        return b;
      }
      case 'video': {
        const c = el('div', 'card video');
        c.appendChild(pic('', 'i-play'));
        if (rep.title) c.appendChild(el('div', 'c-title', rep.title));
        if (rep.description) c.appendChild(el('div', 'c-desc', rep.description));
        c.appendChild(caption('视频', rep.media_id ? 'media_id: ' + rep.media_id : ''));
        return c;
      }
      case 'music': {
        const c = el('div', 'card music');
        const r = el('div', 'm-row');
        const ic = el('div', 'm-icon');
        ic.appendChild(icon('i-music'));
        const t = el('div', 'm-text');
        t.append(el('div', 'c-title', rep.title || '音乐'), el('div', 'c-desc', rep.description || rep.music_url || ''));
        r.append(ic, t);
        c.append(r, caption('音乐', 'thumb_media_id: ' + (rep.thumb_media_id || '')));
        return c;
      }
      default:
        return null;
    }
  }

  function sys(text, cls) {
    const d = el('div', 'sys' + (cls ? ' ' + cls : ''));
    d.appendChild(el('span', '', text));
    return d;
  }

  // eventText describes an event the user caused, as a discreet notice.
  function eventText(en, f) {
    const name = appName(currentApp());
    const key = en.event_key || '';
    switch (en.event) {
      case 'subscribe':
        return key.startsWith('qrscene_') ? '你扫码关注了「' + name + '」（场景 ' + key.slice(8) + '）' : '你关注了「' + name + '」';
      case 'unsubscribe':
        return '你取消关注了「' + name + '」';
      case 'SCAN':
        return '你扫描了带参数二维码（场景 ' + key + '）';
      case 'LOCATION':
        return '已上报地理位置 ' + (f.Latitude || '') + ', ' + (f.Longitude || '');
      case 'CLICK':
        return '点击菜单 · ' + key;
      case 'VIEW':
        return '打开菜单链接 · ' + key;
      case 'TEMPLATESENDJOBFINISH':
        return '模板消息 ' + (f.MsgID || '') + ' 送达结果：' + (f.Status || '');
      case 'MASSSENDJOBFINISH':
        return '群发 ' + (f.MsgID || '') + ' 结束：' + (f.Status || '') + '（粉丝 ' + (f.TotalCount || 0) + '，过滤后 ' +
          (f.FilterCount || 0) + '，送达 ' + (f.SentCount || 0) + '，失败 ' + (f.ErrorCount || 0) + '）';
      case 'kf_create_session':
        return '客服 ' + (f.KfAccount || '') + ' 接入会话';
      case 'kf_close_session':
        return '客服 ' + (f.KfAccount || '') + ' 结束会话';
      case 'kf_switch_session':
        return '会话由客服 ' + (f.FromKfAccount || '') + ' 转给 ' + (f.ToKfAccount || '');
      case 'subscribe_msg_popup_event':
      case 'subscribe_msg_change_event':
      case 'subscribe_msg_sent_event': {
        const st = xmlAll(en.xml, 'SubscribeStatusString').concat(xmlAll(en.xml, 'ErrorStatus')).join('、');
        const what = { subscribe_msg_popup_event: '订阅弹窗', subscribe_msg_change_event: '通知设置', subscribe_msg_sent_event: '订阅通知送达' }[en.event];
        return what + ' · ' + xmlAll(en.xml, 'TemplateId').join('、') + '：' + st;
      }
      default:
        return '事件 ' + en.event + (key ? ' · ' + key : '');
    }
  }

  // renderIn renders what the user sent (direction "in").
  function renderIn(en) {
    const f = xmlFields(en.xml);
    switch (en.type) {
      case 'text':
        return row('in', bubble(en.text || f.Content || ''));
      case 'event':
        return sys(eventText(en, f), 'event');
      case 'location': {
        const c = el('div', 'card location');
        const t = el('div', 'l-text');
        t.append(el('div', 'l-name', f.Label || '位置'), el('div', 'l-sub', (f.Location_X || '') + ', ' + (f.Location_Y || '')));
        const map = el('div', 'map');
        map.appendChild(icon('i-pin'));
        c.append(t, map);
        return row('in', c);
      }
      case 'link': {
        return row('in', newsCard([{ title: f.Title, description: f.Description, url: f.Url }]));
      }
      case 'image':
        return row('in', mediaCard('image', { media_id: f.MediaId }));
      case 'voice':
        return row('in', mediaCard('voice', { media_id: f.MediaId }));
      case 'video':
      case 'shortvideo':
        return row('in', mediaCard('video', { media_id: f.MediaId }));
      default:
        return row('in', bubble('[' + en.type + ']'));
    }
  }

  // renderOut renders what the account sent (direction "out").
  function renderOut(en) {
    if (en.via === 'error') return sys(en.text || UNAVAILABLE, 'error');
    const rep = en.reply;
    if (rep) {
      switch (rep.type) {
        case 'text':
          return row('out', bubble(rep.content || '', true));
        case 'news':
          return row('out', newsCard(rep.articles || []));
        case 'transfer_customer_service':
          return sys('消息已转接到客服' + (rep.kf_account ? '（' + rep.kf_account + '）' : ''), 'event');
        default: {
          const c = mediaCard(rep.type, rep);
          return row('out', c || bubble(en.text || '[' + rep.type + ']'));
        }
      }
    }
    // Customer-service (and other later) messages carry what the user sees.
    const text = en.text || '';
    switch (en.type) {
      case 'text':
        return row('out', bubble(text, true));
      case 'image':
        return row('out', mediaCard('image', {}));
      case 'voice':
        return row('out', mediaCard('voice', {}));
      case 'news':
        return row('out', newsCard([{ title: text.replace(/^\[链接\]\s*/, ''), description: '' }]));
      case 'miniprogrampage': {
        const c = el('div', 'card');
        c.append(el('div', 'c-title', text.replace(/^\[小程序\]\s*/, '') || '小程序'), pic('', 'i-image'), caption('小程序', ''));
        c.querySelector('.pic').style.height = '150px';
        c.querySelector('.pic').style.margin = '8px 10px 0';
        return row('out', c);
      }
      default:
        return row('out', bubble(text || '[' + en.type + ']'));
    }
  }

  function renderChat() {
    const chat = $('chat');
    const nearBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 80;
    chat.replaceChildren();
    const nowMs = Date.now();
    let lastT = 0;
    S.log.forEach((en, i) => {
      const t = Date.parse(en.time) || 0;
      if (!lastT || t - lastT > GAP_MS) chat.appendChild(el('div', 'time', fmtTime(t, Math.max(nowMs, t))));
      lastT = t;
      const node = en.direction === 'in' ? renderIn(en) : renderOut(en);
      if (!node) return;
      node.dataset.index = String(i);
      if (i === S.selected) node.classList.add('selected');
      node.addEventListener('click', (ev) => {
        if (ev.target.closest('a')) return;
        S.selected = S.selected === i ? -1 : i;
        renderChat();
        renderDev();
      });
      chat.appendChild(node);
      // A blacklisted user's message is not pushed to the server.
      if (en.blocked) chat.appendChild(sys('公众号已将你拉黑，消息未推送到开发者服务器', 'error'));
    });
    for (const p of S.pending) {
      if (p.appId !== S.appId || p.user !== S.user) continue;
      chat.appendChild(row('in', bubble(p.text), { state: p.state, error: p.error }));
    }
    if (nearBottom || S.forceBottom) chat.scrollTop = chat.scrollHeight;
    S.forceBottom = false;
  }

  // ---------- sending ----------

  function pushURL() {
    return '/_emulator/apps/' + encodeURIComponent(S.appId) + '/push';
  }

  // push sends req as the current user and shows the outcome.
  async function push(req) {
    if (!S.appId || !S.user) return null;
    try {
      const res = await api('POST', pushURL(), { user: S.user, ...req });
      afterPush(res);
      return res;
    } catch (e) {
      toast(e.message);
      return null;
    }
  }

  function afterPush(res) {
    S.last = res;
    S.selected = -1;
    S.forceBottom = true;
    renderDev();
    poll(true);
  }

  async function sendText(text) {
    const p = { id: ++S.seq, appId: S.appId, user: S.user, text, state: 'sending' };
    S.pending.push(p);
    S.forceBottom = true;
    renderChat();
    try {
      const res = await api('POST', pushURL(), { user: p.user, type: 'text', content: text });
      S.pending = S.pending.filter((x) => x !== p);
      if (p.appId === S.appId && p.user === S.user) {
        // Show the logged exchange before the next poll.
        await refreshLog().catch(() => {});
        afterPush(res);
      }
    } catch (e) {
      p.state = 'failed';
      p.error = e.message;
      renderChat();
      toast(e.message);
    }
  }

  async function tap(b) {
    S.openSub = -1;
    renderFooter();
    switch (b.type) {
      case 'media_id':
      case 'view_limited':
      case 'article_id':
      case 'article_view_limited':
        toast('「' + b.name + '」下发素材 ' + (b.media_id || b.article_id || '') + '\n（不推送事件）');
        return;
      case 'view':
        openWebview(b.name, b.url);
        break;
      case 'miniprogram':
        openWebview(b.name, b.url, '小程序 ' + (b.appid || '') + ' · ' + (b.pagepath || ''));
        break;
    }
    try {
      const res = await api('POST', '/ui/api/click', { appid: S.appId, user: S.user, button: b.key || b.url || b.name });
      afterPush(res);
    } catch (e) {
      toast(e.message);
    }
  }

  // ---------- web view ----------
  //
  // The account's pages load in an iframe at their own URL. The emulator's
  // JS-SDK (/open/js/jweixin-1.6.0.js) in the page posts WeixinJSBridge calls
  // here; they are performed and answered in the WeChat client's shapes.

  const WV_COOKIE = 'wxkit_webview_user'; // read by the OAuth authorize page when framed
  const WV = {
    frame: null,
    depth: 0, // pages loaded in the frame's history
    back: false, // a back navigation is under way
    config: null, // wx.config of the current page: {ok, list}
    listeners: new Set(), // bridge events the page listens to (menu:share:*)
    share: {}, // share data set by the page
    calls: [], // recent bridge calls, for the dev drawer
    sheet: null, // resolve() of the open sheet
  };

  function setWebviewUser(openid) {
    document.cookie = WV_COOKIE + '=' + (openid ? encodeURIComponent(openid) : '') + '; Path=/connect/; SameSite=Lax' +
      (openid ? '' : '; Max-Age=0');
  }

  function openWebview(title, url, kind) {
    const href = safeURL(url);
    closeWebview();
    $('wv-title').textContent = title || '';
    $('webview').hidden = false;
    if (kind || !href) {
      // A mini program (or a bad URL) does not load in the phone.
      $('wv-frame').hidden = true;
      $('wv-info').hidden = false;
      $('wv-kind').textContent = kind || '无法打开网页';
      $('wv-url').textContent = url || '';
      $('wv-note').textContent = kind ? '模拟器不运行小程序：点击事件已推送给公众号服务器。' : '只能打开 http(s) 网页。';
      const open = $('wv-open');
      open.hidden = !href;
      if (href) open.href = href;
      else open.removeAttribute('href');
      return;
    }
    $('wv-info').hidden = true;
    $('wv-frame').hidden = false;
    setWebviewUser(S.user);
    WV.depth = 0;
    WV.back = false;
    WV.config = null;
    WV.listeners = new Set();
    WV.share = {};
    WV.calls = [];
    const f = document.createElement('iframe');
    f.title = '网页';
    f.addEventListener('load', frameLoaded);
    f.src = href;
    $('wv-frame').replaceChildren(f);
    WV.frame = f;
    if (!title) $('wv-title').textContent = new URL(href).host;
    renderDev();
  }

  function frameLoaded() {
    if (WV.back) {
      WV.back = false;
      WV.depth = Math.max(1, WV.depth - 1);
    } else {
      WV.depth++;
    }
    WV.config = null; // every page configures the JS-SDK anew
    WV.listeners = new Set();
    $('wv-back').hidden = WV.depth < 2;
    // The emulator's own pages (OAuth) are readable; others send their
    // title through the bridge.
    let t = '';
    try {
      t = (WV.frame.contentDocument && WV.frame.contentDocument.title) || '';
    } catch (_) {
      /* another origin: its bridge sends the title */
    }
    $('wv-title').textContent = t;
  }

  function closeWebview() {
    closeSheet('cancel');
    closeDialog();
    if (WV.frame) {
      WV.frame.remove();
      WV.frame = null;
      setWebviewUser('');
    }
    $('webview').hidden = true;
    $('wv-back').hidden = true;
  }

  function webviewBack() {
    if (WV.depth < 2) {
      closeWebview();
      return;
    }
    WV.back = true;
    history.back();
  }

  // ----- sheets and dialogs -----

  // openSheet shows a bottom sheet built by build(done) and resolves with
  // the value given to done (or 'cancel' when it is closed otherwise).
  function openSheet(build) {
    closeSheet('cancel');
    return new Promise((resolve) => {
      const done = (v) => {
        if (WV.sheet !== finish) return;
        WV.sheet = null;
        $('sheet').hidden = true;
        $('sheet-mask').hidden = true;
        $('sheet').replaceChildren();
        resolve(v);
      };
      const finish = done;
      WV.sheet = finish;
      $('sheet').replaceChildren(...build(done));
      $('sheet').hidden = false;
      $('sheet-mask').hidden = false;
    });
  }

  function closeSheet(v) {
    if (WV.sheet) WV.sheet(v);
  }

  let dialogDone = null;
  function alertDialog(text) {
    closeDialog();
    $('dialog-text').textContent = text;
    $('dialog').hidden = false;
    return new Promise((resolve) => { dialogDone = resolve; });
  }

  function closeDialog() {
    $('dialog').hidden = true;
    if (dialogDone) {
      const d = dialogDone;
      dialogDone = null;
      d();
    }
  }

  function sheetHead(title, done) {
    const h = el('div', 'sheet-head');
    const x = el('button', 'wv-btn sh-close');
    x.type = 'button';
    x.setAttribute('aria-label', '关闭');
    x.appendChild(icon('i-close'));
    x.addEventListener('click', () => done('cancel'));
    h.append(x, el('span', 'sh-title', title), el('span'));
    return h;
  }

  function button(text, cls, onClick) {
    const b = el('button', 'btn ' + cls, text);
    b.type = 'button';
    b.addEventListener('click', onClick);
    return b;
  }

  function yuan(fen) {
    const n = Number(fen) || 0;
    const s = (n / 100).toFixed(2);
    const a = el('div', 'pay-amount');
    a.append(el('small', '', '¥'), document.createTextNode(s));
    return a;
  }

  // ----- the bridge -----

  // The SDK names of client APIs that jweixin renames.
  const SDK_NAMES = {
    preVerifyJSAPI: 'config', geoLocation: 'getLocation', getBrandWCPayRequest: 'chooseWXPay',
    imagePreview: 'previewImage', editAddress: 'openAddress',
    'menu:share:timeline': 'onMenuShareTimeline', 'menu:share:appmessage': 'onMenuShareAppMessage',
    'menu:share:qq': 'onMenuShareQQ', 'menu:share:weiboApp': 'onMenuShareWeibo', 'menu:share:QZone': 'onMenuShareQZone',
  };
  // What works without wx.config (WeixinJSBridge's classic calls).
  const NO_CONFIG = new Set(['preVerifyJSAPI', 'checkJsApi', 'getBrandWCPayRequest', 'closeWindow']);
  // The client APIs the emulator simulates (checkJsApi answers true for these).
  const SIMULATED = new Set(['geoLocation', 'openLocation', 'getNetworkType', 'scanQRCode', 'chooseImage', 'imagePreview',
    'uploadImage', 'updateAppMessageShareData', 'updateTimelineShareData', 'menu:share:timeline', 'menu:share:appmessage',
    'menu:share:qq', 'menu:share:weiboApp', 'menu:share:QZone', 'sendAppMessage', 'shareTimeline', 'getBrandWCPayRequest',
    'closeWindow', 'hideOptionMenu', 'showOptionMenu', 'hideMenuItems', 'showMenuItems', 'hideAllNonBaseMenuItem',
    'showAllNonBaseMenuItem', 'checkJsApi']);

  window.addEventListener('message', (ev) => {
    if (!WV.frame || ev.source !== WV.frame.contentWindow) return;
    const d = ev.data;
    if (!d || typeof d !== 'object' || d.wxkit !== 'jsbridge') return;
    // The page says where it is (the signed URL); its origin must agree.
    let page;
    try {
      page = new URL(String(d.url));
    } catch (_) {
      return;
    }
    if (page.origin !== ev.origin) return;
    const src = ev.source;
    if (d.page) {
      if (typeof d.title === 'string' && d.title) $('wv-title').textContent = d.title;
      return;
    }
    if (typeof d.on === 'string') {
      WV.listeners.add(d.on);
      return;
    }
    if (typeof d.id !== 'number' || typeof d.name !== 'string') return;
    const args = d.args && typeof d.args === 'object' ? d.args : {};
    bridgeCall(d.name, args, page.href).then((res) => {
      WV.calls.push({ name: d.name, res });
      if (WV.calls.length > 30) WV.calls.shift();
      renderDev();
      // The hint is the emulator's (dev drawer); the page gets WeChat's shape.
      const { hint, ...pub } = res;
      if (WV.frame && src === WV.frame.contentWindow) src.postMessage({ wxkit: 'jsbridge-reply', id: d.id, res: pub }, ev.origin);
    });
  });

  // emit sends a bridge event (menu:share:*) to the page; false when the
  // page does not listen to it.
  function emit(name, res) {
    if (!WV.frame || !WV.listeners.has(name)) return false;
    // Events carry nothing private: any origin the frame is at may read them.
    WV.frame.contentWindow.postMessage({ wxkit: 'jsbridge-reply', event: name, res }, '*');
    return true;
  }

  async function bridgeCall(name, args, pageURL) {
    const ok = (extra) => ({ err_msg: name + ':ok', ...extra });
    if (!NO_CONFIG.has(name)) {
      const c = WV.config;
      const sdk = SDK_NAMES[name] || name;
      const listed = c && c.ok && (c.list.includes(name) || c.list.includes(sdk));
      if (!listed) return { err_msg: name + ':permission denied' };
    }
    switch (name) {
      case 'preVerifyJSAPI':
        return configCheck(args, pageURL);
      case 'checkJsApi': {
        const r = {};
        for (const n of Array.isArray(args.jsApiList) ? args.jsApiList : []) r[n] = SIMULATED.has(n);
        return ok({ checkResult: r });
      }
      case 'getBrandWCPayRequest':
        return paySheet(args);
      case 'closeWindow':
        setTimeout(closeWebview, 0);
        return ok();
      case 'geoLocation':
        return ok({
          latitude: Number($('loc-x').value) || 0, longitude: Number($('loc-y').value) || 0,
          speed: 0, accuracy: 65, altitude: 0, verticalAccuracy: 0, horizontalAccuracy: 65,
        });
      case 'getNetworkType':
        return { err_msg: 'network_type:wifi' };
      case 'chooseImage': {
        const n = Math.min(Math.max(Number(args.count) || 1, 1), 9);
        const ids = [];
        for (let i = 0; i < Math.min(n, 1); i++) ids.push('wxLocalResource://emulator' + Date.now().toString(36) + i);
        return ok({ localIds: ids, sourceType: 'album' });
      }
      case 'uploadImage':
        return ok({ serverId: 'emulator_media_' + Date.now().toString(36) });
      case 'scanQRCode':
        return scanSheet(args);
      case 'updateAppMessageShareData':
      case 'updateTimelineShareData':
        WV.share[name] = { title: args.title, desc: args.desc, link: args.link, imgUrl: args.imgUrl };
        return ok();
      case 'sendAppMessage':
      case 'shareTimeline':
      case 'openLocation':
      case 'imagePreview':
      case 'hideOptionMenu':
      case 'showOptionMenu':
      case 'hideMenuItems':
      case 'showMenuItems':
      case 'hideAllNonBaseMenuItem':
      case 'showAllNonBaseMenuItem':
        return ok();
    }
    return { err_msg: name + ':function not exist' };
  }

  async function configCheck(args, pageURL) {
    const list = Array.isArray(args.verifyJsApiList) ? args.verifyJsApiList.map(String) : [];
    let res;
    try {
      res = await api('POST', '/_emulator/jsapi/config-check', {
        appid: String(args.verifyAppId || args.appId || ''), url: pageURL,
        timestamp: String(args.verifyTimestamp || ''), nonceStr: String(args.verifyNonceStr || ''),
        signature: String(args.verifySignature || ''), jsApiList: list,
      });
    } catch (e) {
      return { err_msg: 'config:fail', hint: e.message };
    }
    WV.config = { ok: res.errMsg === 'config:ok', list };
    return res.hint ? { err_msg: res.errMsg, hint: res.hint } : { err_msg: res.errMsg };
  }

  // paySheet shows the pay sheet for getBrandWCPayRequest / chooseWXPay.
  async function paySheet(args) {
    const fail = (why) => ({ err_msg: 'get_brand_wcpay_request:fail', err_desc: why || '' });
    const params = {};
    for (const k of ['appId', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign']) {
      if (args[k] !== undefined && args[k] !== null) params[k] = String(args[k]);
    }
    const m = /^prepay_id=(.+)$/.exec(params.package || '');
    if (!m) {
      await alertDialog('支付验证签名失败');
      return fail('package is not prepay_id=...');
    }
    const base = '/_emulator/pay/' + encodeURIComponent(m[1]);
    let order;
    try {
      order = await api('POST', base + '/check', { openid: S.user, pay_params: params });
    } catch (e) {
      await alertDialog((e.data && e.data.user_sees) || e.message);
      return fail(e.message);
    }
    const choice = await openSheet((done) => {
      const rows = el('div', 'pay-rows');
      for (const [k, v] of [['商品', order.description || order.out_trade_no], ['付款方式', '零钱']]) {
        const r = el('div', 'pay-row');
        r.append(el('span', '', k), el('span', '', v));
        rows.appendChild(r);
      }
      return [sheetHead('', done), el('div', 'pay-merchant', order.merchant_name || order.mch_id), yuan(order.amount), rows,
        button('支付', 'primary wide pay-confirm', () => done('pay'))];
    });
    if (choice !== 'pay') {
      await api('POST', base + '/decline', {}).catch(() => {});
      return { err_msg: 'get_brand_wcpay_request:cancel' };
    }
    try {
      await api('POST', base + '/pay', { openid: S.user, pay_params: params });
    } catch (e) {
      await alertDialog((e.data && e.data.user_sees) || e.message);
      return fail(e.message);
    }
    await openSheet((done) => {
      const box = el('div', 'pay-done');
      box.append(icon('i-check'), el('h3', '', '支付成功'), el('div', 'pay-merchant', order.merchant_name || order.mch_id), yuan(order.amount));
      return [box, button('完成', 'primary wide pay-finish', () => done('ok'))];
    });
    return { err_msg: 'get_brand_wcpay_request:ok' };
  }

  async function scanSheet(args) {
    let input;
    const v = await openSheet((done) => {
      input = el('input', 'scan-input');
      input.type = 'text';
      input.value = 'https://weixin.qq.com/';
      input.setAttribute('aria-label', '二维码内容');
      return [sheetHead('扫一扫', done), el('p', 'share-info', '模拟扫码：输入二维码 / 条码的内容'), input,
        button('确定', 'primary wide', () => done('ok'))];
    });
    if (v !== 'ok') return { err_msg: 'scanQRCode:cancel' };
    return Number(args.needResult) === 1 ? { err_msg: 'scanQRCode:ok', resultStr: input.value } : { err_msg: 'scanQRCode:ok' };
  }

  // shareSheet is the web view's "..." menu.
  async function shareSheet() {
    const app = WV.share.updateAppMessageShareData || {};
    const v = await openSheet((done) => {
      const grid = el('div', 'share-grid');
      for (const [id, label, glyph] of [['friend', '发送给朋友', '➤'], ['timeline', '分享到朋友圈', '◎'], ['copy', '复制链接', '⎘'], ['reload', '刷新', '↻']]) {
        const b = el('button');
        b.type = 'button';
        b.append(el('span', 's-icon', glyph), el('span', '', label));
        b.addEventListener('click', () => done(id));
        grid.appendChild(b);
      }
      const info = app.title ? '分享卡片：' + app.title + (app.desc ? ' · ' + app.desc : '') : '页面未设置分享内容';
      return [sheetHead('', done), el('p', 'share-info', info), grid];
    });
    switch (v) {
      case 'friend':
        if (!emit('menu:share:appmessage', { err_msg: 'menu:share:appmessage:ok', scene: 'friend' })) toast('已发送给朋友');
        break;
      case 'timeline':
        if (!emit('menu:share:timeline', { err_msg: 'menu:share:timeline:ok' })) toast('已分享到朋友圈');
        break;
      case 'copy':
        if (WV.frame) navigator.clipboard.writeText(WV.frame.src).then(() => toast('已复制'), () => toast(WV.frame.src));
        break;
      case 'reload':
        if (WV.frame) {
          WV.depth = 0;
          WV.frame.src = WV.frame.src;
        }
        break;
    }
  }

  // ---------- footer: menu or input ----------

  function renderFooter() {
    const f = $('footer');
    f.replaceChildren();
    const u = currentUser();
    if (!u) return;
    if (!u.subscribed) {
      const bar = el('div', 'follow-bar');
      const btn = el('button', 'btn primary', '关注公众号');
      btn.type = 'button';
      btn.addEventListener('click', () => push({ type: 'event', event: 'subscribe' }));
      bar.append(el('p', '', '你还没有关注「' + appName(currentApp()) + '」'), btn);
      f.appendChild(bar);
      return;
    }
    if (S.menu && S.mode === 'menu') {
      f.appendChild(menuBar());
      return;
    }
    f.appendChild(inputBar());
  }

  function menuBar() {
    const bar = el('div', 'menubar');
    const sw = el('button', 'switch');
    sw.type = 'button';
    sw.title = '切换到键盘';
    sw.appendChild(icon('i-kbd'));
    sw.addEventListener('click', () => {
      S.mode = 'input';
      S.openSub = -1;
      renderFooter();
      const i = $('footer').querySelector('.input');
      if (i) i.focus();
    });
    bar.appendChild(sw);
    S.menu.button.forEach((b, i) => {
      const subs = b.sub_button || [];
      const m = el('button', 'mbtn' + (S.openSub === i ? ' open' : ''));
      m.type = 'button';
      if (subs.length) m.appendChild(icon('i-sub'));
      m.appendChild(el('span', 'mname', b.name));
      m.addEventListener('click', (ev) => {
        ev.stopPropagation();
        if (subs.length) {
          S.openSub = S.openSub === i ? -1 : i;
          renderFooter();
        } else {
          tap(b);
        }
      });
      bar.appendChild(m);
    });
    if (S.openSub >= 0) {
      const b = S.menu.button[S.openSub];
      const pop = el('div', 'submenu');
      for (const sb of b.sub_button || []) {
        const it = el('button', '', sb.name);
        it.type = 'button';
        it.addEventListener('click', (ev) => { ev.stopPropagation(); tap(sb); });
        pop.appendChild(it);
      }
      bar.appendChild(pop);
      // Position above the top button once laid out.
      requestAnimationFrame(() => {
        const btn = bar.querySelectorAll('.mbtn')[S.openSub];
        if (!btn) return;
        const w = Math.max(btn.offsetWidth - 16, 112);
        const left = Math.min(Math.max(btn.offsetLeft + (btn.offsetWidth - w) / 2, 6), bar.offsetWidth - w - 6);
        pop.style.width = w + 'px';
        pop.style.left = left + 'px';
      });
    }
    return bar;
  }

  function inputBar() {
    const bar = el('div', 'bar');
    const left = el('button', 'icon-btn');
    left.type = 'button';
    if (S.menu) {
      left.title = '切换到菜单';
      left.appendChild(icon('i-menu'));
      left.addEventListener('click', () => { S.mode = 'menu'; renderFooter(); });
    } else {
      left.title = '语音';
      left.appendChild(icon('i-voice'));
      left.addEventListener('click', () => toast('模拟器暂不支持语音'));
    }
    const input = el('input', 'input');
    input.type = 'text';
    input.value = S.draft;
    input.setAttribute('aria-label', '消息');
    input.enterKeyHint = 'send';
    const emoji = el('button', 'icon-btn');
    emoji.type = 'button';
    emoji.title = '表情';
    emoji.appendChild(icon('i-emoji'));
    emoji.addEventListener('click', () => { input.value += '[微笑]'; sync(); input.focus(); });
    const plus = el('button', 'icon-btn');
    plus.type = 'button';
    plus.title = '更多';
    plus.appendChild(icon('i-plus'));
    plus.addEventListener('click', () => {
      push({ type: 'location', location_x: $('loc-x').value, location_y: $('loc-y').value, scale: 15, label: $('loc-label').value });
    });
    const send = el('button', 'send', '发送');
    send.type = 'button';
    const sync = () => {
      S.draft = input.value;
      const has = input.value.trim() !== '';
      send.hidden = !has;
      plus.hidden = has;
    };
    const doSend = () => {
      const text = input.value;
      if (text.trim() === '') return;
      input.value = '';
      sync();
      sendText(text);
      input.focus();
    };
    input.addEventListener('input', sync);
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.isComposing) {
        ev.preventDefault();
        doSend();
      }
    });
    send.addEventListener('click', doSend);
    sync();
    bar.append(left, input, emoji, plus, send);
    return bar;
  }

  // ---------- dev drawer ----------

  // prettyXML indents a WeChat XML document for reading (text only).
  function prettyXML(xml) {
    if (!xml) return '';
    const doc = parseXML(xml);
    if (!doc) return xml; // "success", JSON, or not well-formed: shown as it is
    const out = [];
    const walk = (n, depth) => {
      const pad = '  '.repeat(depth);
      const kids = Array.from(n.childNodes);
      const elems = kids.filter((k) => k.nodeType === 1);
      if (!elems.length) {
        const inner = kids.map((k) => (k.nodeType === 4 ? '<![CDATA[' + k.data + ']]>' : k.textContent)).join('');
        out.push(pad + '<' + n.tagName + '>' + inner + '</' + n.tagName + '>');
        return;
      }
      out.push(pad + '<' + n.tagName + '>');
      for (const k of elems) walk(k, depth + 1);
      out.push(pad + '</' + n.tagName + '>');
    };
    walk(doc.documentElement, 0);
    return out.join('\n');
  }

  function kv(pairs) {
    const dl = el('dl', 'kv');
    for (const [k, v, cls] of pairs) {
      if (v === undefined || v === null || v === '') continue;
      dl.append(el('dt', '', k), el('dd', cls || '', v));
    }
    return dl;
  }

  function pre(text) {
    return el('pre', '', text);
  }

  function renderDev() {
    const body = $('dev-body');
    body.replaceChildren();
    if (WV.frame && WV.calls.length) {
      // The web view is open: its JS-SDK calls and what the page got.
      $('dev-caption').textContent = '网页 JS-SDK';
      body.appendChild(el('h3', '', 'WeixinJSBridge 调用（' + WV.calls.length + '）'));
      const table = el('table');
      const head = el('tr');
      for (const h of ['接口', '结果']) head.appendChild(el('th', '', h));
      table.appendChild(head);
      for (const c of WV.calls.slice().reverse()) {
        const tr = el('tr');
        const msg = String((c.res && c.res.err_msg) || '');
        const res = el('td', /:(ok|confirm)$/.test(msg) ? 'ok' : 'bad', msg);
        if (c.res && c.res.hint) res.appendChild(el('div', 'err', c.res.hint));
        tr.append(el('td', '', c.name), res);
        table.appendChild(tr);
      }
      body.appendChild(table);
      return;
    }
    // Without a push from this page, show the latest exchange of the log
    // (pushed by tests, the CLI or the control API).
    let idx = S.selected;
    let caption = '聊天记录 #' + (idx + 1);
    if (idx < 0 && !S.last && S.log.length) {
      idx = S.log.length - 1;
      while (idx > 0 && S.log[idx].direction !== 'in') idx--;
      caption = '最近一条记录（#' + (idx + 1) + '）';
    }
    if (idx >= 0 && S.log[idx]) {
      const en = S.log[idx];
      $('dev-caption').textContent = caption;
      body.append(el('h3', '', '记录'), kv([
        ['时间', en.time],
        ['方向', en.direction === 'in' ? 'in · 用户 → 公众号' : 'out · 公众号 → 用户'],
        ['来源', en.via],
        ['类型', en.type + (en.event ? ' / ' + en.event : '')],
        ['EventKey', en.event_key],
        ['MsgId', en.msg_id],
        ['投递次数', en.deliveries],
        ['拦截', en.blocked ? '用户在黑名单中，未推送' : '', 'bad'],
        ['用户看到', en.direction === 'out' ? en.text : ''],
        ['错误', en.error, 'bad'],
      ]));
      if (en.xml) body.append(el('h3', '', en.direction === 'in' ? '推送 XML（明文）' : '回复 XML（明文）'), pre(prettyXML(en.xml)));
      if (en.reply && en.reply.encrypted) body.append(el('p', 'muted small', '回复以安全模式加密信封送达，此处为解密后的内容。'));
      // The answer to an inbound message is the next entry, when it is a
      // passive reply or the error the user saw.
      const next = S.log[idx + 1];
      if (en.blocked) return;
      if (en.direction === 'in' && next && next.direction === 'out' && (next.via === 'reply' || next.via === 'error')) {
        body.append(el('h3', '', '回复'), kv([
          ['类型', next.reply ? next.reply.type : next.type],
          ['用户看到', next.text],
          ['错误', next.error, 'bad'],
        ]));
        if (next.xml) body.append(el('h3', '', '回复 XML' + (next.reply && next.reply.encrypted ? '（已解密）' : '')), pre(prettyXML(next.xml)));
      } else if (en.direction === 'in') {
        body.append(el('h3', '', '回复'), el('p', 'muted', '无回复（服务器应答 success 或空串）'));
      }
      return;
    }
    const res = S.last;
    $('dev-caption').textContent = '最近一次推送';
    if (!res) {
      body.appendChild(el('p', 'muted', '发送一条消息，或点选一条聊天记录，这里会显示推送的 XML、每次投递的状态与耗时、以及公众号服务器的回复。'));
      return;
    }
    const msg = res.message || {};
    body.append(el('h3', '', '结果'), kv([
      ['状态', res.blocked ? '未推送 · 用户在黑名单中' : res.error ? '失败' : res.no_reply ? '成功 · 无回复' : '成功',
        res.error || res.blocked ? 'bad' : 'ok'],
      ['类型', (msg.msg_type || '') + (msg.event ? ' / ' + msg.event : '')],
      ['MsgId', msg.msg_id],
      ['用户看到', res.user_sees],
      ['错误', res.error, 'bad'],
    ]));
    const atts = res.attempts || [];
    body.appendChild(el('h3', '', '投递（' + atts.length + '）'));
    const table = el('table');
    const head = el('tr');
    for (const h of ['#', '状态', '耗时', '错误']) head.appendChild(el('th', '', h));
    table.appendChild(head);
    atts.forEach((a, i) => {
      const tr = el('tr');
      tr.append(el('td', '', i + 1), el('td', a.status >= 200 && a.status < 300 ? 'ok' : 'bad', a.status || '—'),
        el('td', '', a.duration || ''), el('td', 'err', a.error || ''));
      table.appendChild(tr);
    });
    body.appendChild(table);
    body.append(el('h3', '', '推送 XML（明文）'), pre(prettyXML(msg.xml)));
    if (res.reply) {
      body.append(el('h3', '', '回复 XML' + (res.reply.encrypted ? '（已解密）' : '')), pre(prettyXML(res.reply.xml)));
    }
    const lastAtt = atts[atts.length - 1];
    if (lastAtt && lastAtt.body && (!res.reply || lastAtt.body !== res.reply.xml)) {
      body.append(el('h3', '', '应答原文'), pre(prettyXML(lastAtt.body)));
    }
  }

  // ---------- wiring ----------

  function bind() {
    $('app-select').addEventListener('change', (ev) => {
      S.appId = ev.target.value;
      const a = currentApp();
      S.user = a && a.users.length ? a.users[0].openid : '';
      resetConversation();
    });
    $('ev-subscribe').addEventListener('click', () => push({ type: 'event', event: 'subscribe' }));
    $('ev-unsubscribe').addEventListener('click', () => push({ type: 'event', event: 'unsubscribe' }));
    $('ev-scan').addEventListener('click', () => {
      const scene = $('scan-scene').value.trim() || '1';
      const u = currentUser();
      if (u && u.subscribed) push({ type: 'event', event: 'SCAN', event_key: scene });
      else push({ type: 'event', event: 'subscribe', event_key: 'qrscene_' + scene });
    });
    $('ev-location').addEventListener('click', () => push({
      type: 'location', location_x: $('loc-x').value.trim(), location_y: $('loc-y').value.trim(),
      scale: 15, label: $('loc-label').value,
    }));
    $('ev-report').addEventListener('click', () => push({
      type: 'event', event: 'LOCATION', latitude: $('loc-x').value.trim(), longitude: $('loc-y').value.trim(), precision: '65.000000',
    }));
    $('sub-accept').addEventListener('click', () => subscribePopup(true, false));
    $('sub-reject').addEventListener('click', () => subscribePopup(false, false));
    $('sub-settings').addEventListener('click', () => subscribePopup(false, true));
    $('dev-toggle').addEventListener('click', () => {
      const closed = $('desk').classList.toggle('dev-closed');
      $('dev-toggle').setAttribute('aria-expanded', String(!closed));
    });
    $('wv-close').addEventListener('click', closeWebview);
    $('wv-back').addEventListener('click', webviewBack);
    $('wv-more').addEventListener('click', () => { if (WV.frame) shareSheet(); });
    $('sheet-mask').addEventListener('click', () => closeSheet('cancel'));
    $('dialog-ok').addEventListener('click', closeDialog);
    document.addEventListener('click', (ev) => {
      if (S.openSub >= 0 && !ev.target.closest('.submenu')) {
        S.openSub = -1;
        renderFooter();
      }
    });
  }

  async function start() {
    bind();
    tickClock();
    setInterval(tickClock, 10000);
    const [app, user] = location.hash.slice(1).split('/').map((s) => {
      try { return decodeURIComponent(s); } catch (_) { return ''; }
    });
    S.appId = app || '';
    S.user = user || '';
    try {
      await loadApps();
    } catch (e) {
      toast('无法连接模拟器：' + e.message, 6000);
    }
    resetConversation();
    // GET /_emulator/webview?appid=&openid=&url= lands here with ?webview=URL.
    const page = new URLSearchParams(location.search).get('webview');
    if (page && currentUser()) openWebview('', page);
    setInterval(() => { if (!document.hidden) poll(false); }, POLL_MS);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
