// wxkit emulator: the WeChat JS-SDK (the jweixin 1.6.0 API) for pages shown
// in the emulator's web view. It is the emulator's own implementation, not
// Tencent's file.
//
// It defines two things:
//
//   WeixinJSBridge  what the WeChat client injects into its web view:
//                   invoke(name, args, cb), on(name, cb), call(name). Calls
//                   go to the emulator's phone page (the parent window) by
//                   postMessage; the phone page performs them and answers
//                   in the client's shapes ({err_msg: "get_brand_wcpay_request:ok"}).
//                   "WeixinJSBridgeReady" is dispatched on document.
//   wx (jWeixin)    the JS-SDK: config/ready/error, checkJsApi, getLocation,
//                   scanQRCode, chooseImage, getNetworkType, the share APIs,
//                   chooseWXPay, closeWindow, ... with the SDK's result
//                   shapes ({errMsg: "config:ok"}).
//
// It also appends "MicroMessenger/8.0.50" to navigator.userAgent, as a page
// in WeChat sees it: the npm copy (weixin-js-sdk) only talks to the bridge
// when the user agent says MicroMessenger. A page that bundles the npm copy
// loads this script first, from the emulator, in development: then the npm
// copy returns this wx (it keeps an existing window.jWeixin), or, with the
// data-bridge-only attribute on the script tag, runs its own code on this
// bridge.
(function (window) {
  'use strict';
  var document = window.document;
  if (window.WeixinJSBridge && window.WeixinJSBridge.wxkit) return;

  // The phone page is the window that framed us, on the emulator's origin:
  // the origin this script was loaded from.
  var script = document.currentScript;
  var emulatorOrigin = '*';
  try {
    if (script && script.src) emulatorOrigin = new URL(script.src, location.href).origin;
  } catch (_) { /* keep '*' */ }
  var framed = window.parent && window.parent !== window;

  try {
    var ua = navigator.userAgent;
    if (!/micromessenger/i.test(ua)) {
      Object.defineProperty(navigator, 'userAgent', {
        configurable: true,
        value: ua + ' MicroMessenger/8.0.50(0x18003233) NetType/WIFI Language/zh_CN',
      });
    }
  } catch (_) { /* read-only in this browser: pages see the plain user agent */ }

  // ---------- WeixinJSBridge ----------

  var seq = 0;
  var pending = {};
  var listeners = {};

  function post(msg) {
    msg.wxkit = 'jsbridge';
    msg.url = location.href;
    window.parent.postMessage(msg, emulatorOrigin);
  }

  // plain drops what postMessage cannot carry (functions).
  function plain(v) {
    try {
      return JSON.parse(JSON.stringify(v === undefined ? {} : v));
    } catch (_) {
      return {};
    }
  }

  window.addEventListener('message', function (ev) {
    if (ev.source !== window.parent) return;
    if (emulatorOrigin !== '*' && ev.origin !== emulatorOrigin) return;
    var d = ev.data;
    if (!d || d.wxkit !== 'jsbridge-reply') return;
    if (d.id) {
      var cb = pending[d.id];
      delete pending[d.id];
      if (cb) cb(d.res || {});
      return;
    }
    if (d.event) {
      var ls = listeners[d.event] || [];
      for (var i = 0; i < ls.length; i++) ls[i](plain(d.res));
    }
  });

  var bridge = {
    wxkit: true,
    invoke: function (name, args, cb) {
      if (!framed) {
        if (cb) setTimeout(function () { cb({ err_msg: name + ':fail, not in the wxkit emulator web view' }); }, 0);
        return;
      }
      var id = ++seq;
      if (typeof cb === 'function') pending[id] = cb;
      post({ id: id, name: String(name), args: plain(args) });
    },
    on: function (name, cb) {
      if (typeof cb !== 'function') return;
      (listeners[name] = listeners[name] || []).push(cb);
      if (framed) post({ on: String(name) });
    },
    call: function (name) {
      bridge.invoke(name, {});
    },
  };
  window.WeixinJSBridge = bridge;

  // The phone shows the page's title in its title bar.
  function sendTitle() {
    if (framed) post({ page: true, title: document.title });
  }
  function watchTitle() {
    sendTitle();
    var head = document.head || document.documentElement;
    if (window.MutationObserver && head) {
      new MutationObserver(sendTitle).observe(head, { subtree: true, childList: true, characterData: true });
    }
  }

  function ready() {
    var ev;
    try {
      ev = new Event('WeixinJSBridgeReady');
    } catch (_) {
      ev = document.createEvent('Event');
      ev.initEvent('WeixinJSBridgeReady', false, false);
    }
    document.dispatchEvent(ev);
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', watchTitle);
  } else {
    watchTitle();
  }
  // Again once loaded: the phone resets its title bar when the frame loads.
  window.addEventListener('load', function () { setTimeout(sendTitle, 0); });
  setTimeout(ready, 0);

  // ---------- wx ----------

  // <script src=".../jweixin-1.6.0.js" data-bridge-only> leaves wx to the
  // page's own copy of the SDK (the npm weixin-js-sdk), which then talks to
  // this bridge.
  if (window.jWeixin || (script && script.hasAttribute('data-bridge-only'))) return;

  // The client's names of the SDK's methods, where they differ.
  var native = {
    config: 'preVerifyJSAPI',
    onMenuShareTimeline: 'menu:share:timeline',
    onMenuShareAppMessage: 'menu:share:appmessage',
    onMenuShareQQ: 'menu:share:qq',
    onMenuShareWeibo: 'menu:share:weiboApp',
    onMenuShareQZone: 'menu:share:QZone',
    previewImage: 'imagePreview',
    getLocation: 'geoLocation',
    chooseWXPay: 'getBrandWCPayRequest',
    openAddress: 'editAddress',
  };
  var sdkName = {};
  for (var k in native) sdkName[native[k]] = k;

  var cfg = {};
  var state = 0; // 0 verifying, 1 done
  var result = null;
  var readyQueue = [];
  var errorHandler = null;

  function verify(args) {
    args = args || {};
    args.appId = cfg.appId;
    args.verifyAppId = cfg.appId;
    args.verifySignType = 'sha1';
    args.verifyTimestamp = String(cfg.timestamp);
    args.verifyNonceStr = cfg.nonceStr;
    args.verifySignature = cfg.signature;
    return args;
  }

  // errMsg turns the client's err_msg into the SDK's "name:ok|cancel|fail|...".
  function errMsg(name, raw) {
    var s = 'ok';
    if (raw) {
      s = raw.substring(raw.indexOf(':') + 1);
      if (s === 'confirm') s = 'ok';
      if (s === 'failed') s = 'fail';
      if (s.indexOf('failed_') !== -1) s = s.substring(7);
      if (s.indexOf('fail_') !== -1) s = s.substring(5);
      s = s.replace(/_/g, ' ').toLowerCase();
      if (s === 'access denied' || s === 'no permission to execute') s = 'permission denied';
      if (name === 'config' && s === 'function not exist') s = 'ok';
      if (s === '') s = 'fail';
    }
    return name + ':' + s;
  }

  function finish(name, res, opts) {
    opts = opts || {};
    if (!res.errMsg) {
      res.errMsg = errMsg(name, res.err_msg);
      delete res.err_msg;
    }
    if (opts._complete) opts._complete(res);
    if (cfg.debug && !opts.inner) window.alert(JSON.stringify(res));
    var s = res.errMsg.substring(res.errMsg.indexOf(':') + 1);
    if (s === 'ok') {
      if (opts.success) opts.success(res);
    } else if (s === 'cancel') {
      if (opts.cancel) opts.cancel(res);
    } else if (opts.fail) {
      opts.fail(res);
    }
    if (opts.complete) opts.complete(res);
  }

  function call(name, args, opts) {
    bridge.invoke(native[name] || name, verify(args), function (res) {
      finish(name, res, opts);
    });
  }

  // share registers a share API's callbacks: they run when the user shares
  // from the web view's menu (the emulator's "..." button).
  function share(name, args, opts) {
    opts = opts || {};
    bridge.on(native[name], function (res) {
      if (opts.trigger) opts.trigger(res);
      finish(name, res, opts);
    });
  }

  var wx = {
    // config checks the page's signature (see /_emulator/jsapi/config-check):
    // wx.ready callbacks run when the check is done, wx.error's with
    // {errMsg: "config:invalid signature"} and the like when it failed.
    config: function (c) {
      cfg = c || {};
      state = 0;
      var list = [];
      var apis = cfg.jsApiList || [];
      for (var i = 0; i < apis.length; i++) list.push(native[apis[i]] || apis[i]);
      call('config', { verifyJsApiList: list, verifyOpenTagList: cfg.openTagList || [] }, {
        complete: function (res) {
          result = res;
          state = 1;
          if (!/:ok$/.test(res.errMsg) && errorHandler) errorHandler(res);
          var q = readyQueue;
          readyQueue = [];
          for (var j = 0; j < q.length; j++) q[j]();
        },
      });
    },
    ready: function (fn) {
      if (state === 1) fn();
      else readyQueue.push(fn);
    },
    error: function (fn) {
      errorHandler = fn;
      if (state === 1 && result && !/:ok$/.test(result.errMsg)) fn(result);
    },
    checkJsApi: function (o) {
      o = o || {};
      var list = [];
      var apis = o.jsApiList || [];
      for (var i = 0; i < apis.length; i++) list.push(native[apis[i]] || apis[i]);
      o._complete = function (res) {
        var r = res.checkResult || {};
        for (var n in r) {
          if (sdkName[n]) {
            r[sdkName[n]] = r[n];
            delete r[n];
          }
        }
      };
      call('checkJsApi', { jsApiList: list }, o);
    },
    updateAppMessageShareData: function (o) {
      o = o || {};
      call('updateAppMessageShareData', { title: o.title, desc: o.desc, link: o.link, imgUrl: o.imgUrl }, o);
    },
    updateTimelineShareData: function (o) {
      o = o || {};
      call('updateTimelineShareData', { title: o.title, link: o.link, imgUrl: o.imgUrl }, o);
    },
    onMenuShareTimeline: function (o) {
      o = o || {};
      share('onMenuShareTimeline', { title: o.title || document.title, link: o.link || location.href, imgUrl: o.imgUrl || '' }, o);
    },
    onMenuShareAppMessage: function (o) {
      o = o || {};
      share('onMenuShareAppMessage', { title: o.title || document.title, desc: o.desc || '', link: o.link || location.href, imgUrl: o.imgUrl || '' }, o);
    },
    onMenuShareQQ: function (o) {
      o = o || {};
      share('onMenuShareQQ', { title: o.title || document.title, desc: o.desc || '', link: o.link || location.href, imgUrl: o.imgUrl || '' }, o);
    },
    onMenuShareWeibo: function (o) {
      o = o || {};
      share('onMenuShareWeibo', { title: o.title || document.title, desc: o.desc || '', link: o.link || location.href, imgUrl: o.imgUrl || '' }, o);
    },
    onMenuShareQZone: function (o) {
      o = o || {};
      share('onMenuShareQZone', { title: o.title || document.title, desc: o.desc || '', link: o.link || location.href, imgUrl: o.imgUrl || '' }, o);
    },
    chooseImage: function (o) {
      o = o || {};
      call('chooseImage', {
        scene: '1|2', count: o.count || 9,
        sizeType: o.sizeType || ['original', 'compressed'], sourceType: o.sourceType || ['album', 'camera'],
      }, o);
    },
    previewImage: function (o) {
      o = o || {};
      call('previewImage', { current: o.current, urls: o.urls }, o);
    },
    uploadImage: function (o) {
      o = o || {};
      call('uploadImage', { localId: o.localId, isShowProgressTips: o.isShowProgressTips === 0 ? 0 : 1 }, o);
    },
    getLocation: function (o) {
      o = o || {};
      o._complete = function (res) { delete res.type; };
      call('getLocation', { type: o.type || 'wgs84' }, o);
    },
    openLocation: function (o) {
      o = o || {};
      call('openLocation', {
        latitude: o.latitude, longitude: o.longitude, name: o.name || '', address: o.address || '',
        scale: o.scale || 28, infoUrl: o.infoUrl || '',
      }, o);
    },
    getNetworkType: function (o) {
      o = o || {};
      o._complete = function (res) {
        var m = res.errMsg;
        res.errMsg = 'getNetworkType:ok';
        var sub = res.subtype;
        delete res.subtype;
        if (sub) {
          res.networkType = sub;
          return;
        }
        var t = m.substring(m.indexOf(':') + 1);
        if (t === 'wifi' || t === 'edge' || t === 'wwan') res.networkType = t;
        else res.errMsg = 'getNetworkType:fail';
      };
      call('getNetworkType', {}, o);
    },
    scanQRCode: function (o) {
      o = o || {};
      call('scanQRCode', { needResult: o.needResult || 0, scanType: o.scanType || ['qrCode', 'barCode'] }, o);
    },
    chooseWXPay: function (o) {
      o = o || {};
      call('chooseWXPay', {
        timeStamp: String(o.timestamp), nonceStr: o.nonceStr, package: o.package,
        paySign: o.paySign, signType: o.signType || 'SHA1',
      }, o);
    },
    openAddress: function (o) {
      call('openAddress', {}, o || {});
    },
    closeWindow: function (o) {
      call('closeWindow', {}, o || {});
    },
    hideOptionMenu: function (o) { call('hideOptionMenu', {}, o || {}); },
    showOptionMenu: function (o) { call('showOptionMenu', {}, o || {}); },
    hideMenuItems: function (o) { o = o || {}; call('hideMenuItems', { menuList: o.menuList }, o); },
    showMenuItems: function (o) { o = o || {}; call('showMenuItems', { menuList: o.menuList }, o); },
    hideAllNonBaseMenuItem: function (o) { call('hideAllNonBaseMenuItem', {}, o || {}); },
    showAllNonBaseMenuItem: function (o) { call('showAllNonBaseMenuItem', {}, o || {}); },
    invoke: function (name, args, cb) { bridge.invoke(name, verify(args), cb); },
    on: function (name, cb) { bridge.on(name, cb); },
  };
  window.jWeixin = window.wx = wx;
})(window);
