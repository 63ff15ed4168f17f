// The wxkit demo page (gateway/demo.go), for WeChat's web view:
//
//   1. GET /api/me; without a session, sign in through /oauth/login
//      (snsapi_userinfo) with a return to this page;
//   2. show the user (nickname, openid);
//   3. GET /jssdk/config for location.href (without the #fragment), then
//      wx.config: "wx.config ok" or the wx.error message;
//   4. Pay: POST /pay/orders (1 fen), wx.chooseWXPay with the parameters
//      the gateway signed (v3 RSA, or v2 MD5 / HMAC-SHA256), then
//      GET /pay/orders/{out_trade_no} until the state is SUCCESS (after a
//      cancel: the state as it is, NOTPAY).
//
// ?app=APPID selects the app when the gateway serves several.
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var app = new URLSearchParams(location.search).get('app') || '';
  var SIGNIN_KEY = 'wxkit-demo-signin';

  // query builds a query string with app added when set.
  function query(params) {
    var q = new URLSearchParams(params);
    if (app) q.set('app', app);
    return q.toString();
  }

  function status(id, text, cls) {
    var el = $(id);
    el.textContent = text;
    el.className = 'status' + (cls ? ' ' + cls : '');
  }

  // api fetches a gateway route with the session cookie and returns
  // {status, body} (body parsed when JSON).
  function api(method, path, body) {
    var opts = { method: method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (resp) {
      return resp.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (_) { data = { error: text }; }
        return { status: resp.status, body: data };
      });
    });
  }

  function errorText(res) {
    return (res.body && res.body.error) || ('HTTP ' + res.status);
  }

  // ---------- 1, 2: sign in and show the user ----------

  function signIn() {
    // One automatic attempt a minute: a sign-in that does not stick (the
    // cookie refused) must not loop.
    var last = Number(sessionStorage.getItem(SIGNIN_KEY) || 0);
    if (Date.now() - last < 60000) {
      status('signin', 'Sign-in did not complete: no session after the return from /oauth/login. 登录未完成', 'err');
      return;
    }
    sessionStorage.setItem(SIGNIN_KEY, String(Date.now()));
    status('signin', 'Redirecting to WeChat authorization… 正在跳转授权');
    location.replace('/oauth/login?' + query({ return: location.pathname + location.search, scope: 'snsapi_userinfo' }));
  }

  function showUser(u) {
    sessionStorage.removeItem(SIGNIN_KEY);
    $('signin').hidden = true;
    $('user').hidden = false;
    $('nickname').textContent = u.nickname || '(no nickname: snsapi_base)';
    $('openid').textContent = u.openid;
    if (u.headimgurl) {
      $('avatar').src = u.headimgurl;
      $('avatar').hidden = false;
    }
  }

  // ---------- 3: wx.config ----------

  var wxReady = false;

  function configure() {
    if (typeof window.wx === 'undefined') {
      status('jssdk', 'The JS-SDK script did not load (jweixin-1.6.0.js). JS-SDK 未加载', 'err');
      return;
    }
    status('jssdk', 'Signing wx.config… 签名中');
    var page = location.href.split('#')[0];
    api('GET', '/jssdk/config?' + query({ url: page, apis: 'chooseWXPay' })).then(function (res) {
      if (res.status !== 200) {
        status('jssdk', 'GET /jssdk/config: ' + errorText(res), 'err');
        return;
      }
      var c = res.body;
      var failed = false;
      wx.config({ debug: false, appId: c.appId, timestamp: c.timestamp, nonceStr: c.nonceStr,
        signature: c.signature, jsApiList: c.jsApiList || ['chooseWXPay'] });
      wx.error(function (e) {
        failed = true;
        status('jssdk', e.errMsg || 'wx.config failed', 'err');
      });
      wx.ready(function () {
        if (failed) return;
        wxReady = true;
        status('jssdk', 'wx.config ok', 'ok');
        $('pay').disabled = false;
      });
    }, function (err) {
      status('jssdk', 'GET /jssdk/config: ' + err, 'err');
    });
  }

  // ---------- 4: pay ----------

  function showState(no, st) {
    $('order').hidden = false;
    $('out-trade-no').textContent = no;
    $('state').textContent = st;
    $('state').className = st;
  }

  // poll reads the order until its state is SUCCESS (or tries run out).
  function poll(no, tries) {
    return api('GET', '/pay/orders/' + encodeURIComponent(no)).then(function (res) {
      if (res.status !== 200) {
        status('pay-status', 'GET /pay/orders/' + no + ': ' + errorText(res), 'err');
        return;
      }
      showState(no, res.body.state);
      if (res.body.state === 'SUCCESS') {
        status('pay-status', 'Paid: the gateway has the payment notify. 支付成功', 'ok');
        return;
      }
      if (tries <= 1) {
        status('pay-status', 'Still ' + res.body.state + ': no notify yet.', 'err');
        return;
      }
      status('pay-status', 'Waiting for the payment notify… 等待支付结果');
      return new Promise(function (resolve) { setTimeout(resolve, 1000); }).then(function () { return poll(no, tries - 1); });
    });
  }

  function pay() {
    if (!wxReady) return;
    $('pay').disabled = true;
    status('pay-status', 'Creating the order… 下单中');
    api('POST', '/pay/orders', { amount: 1, description: 'wxkit demo 0.01' }).then(function (res) {
      if (res.status !== 201) {
        status('pay-status', 'POST /pay/orders: ' + errorText(res), 'err');
        $('pay').disabled = false;
        return;
      }
      var no = res.body.out_trade_no;
      var p = res.body.pay_params;
      showState(no, 'NOTPAY');
      status('pay-status', 'Paying with wx.chooseWXPay (' + p.signType + ')…');
      wx.chooseWXPay({
        timestamp: p.timeStamp, nonceStr: p.nonceStr, package: p.package, signType: p.signType, paySign: p.paySign,
        success: function () { poll(no, 30).finally(function () { $('pay').disabled = false; }); },
        cancel: function () {
          status('pay-status', 'Cancelled. 已取消');
          poll(no, 1).finally(function () {
            status('pay-status', 'Cancelled: the order stays unpaid. 已取消');
            $('pay').disabled = false;
          });
        },
        fail: function (e) {
          status('pay-status', (e && e.errMsg) || 'chooseWXPay failed', 'err');
          $('pay').disabled = false;
        },
      });
    }, function (err) {
      status('pay-status', 'POST /pay/orders: ' + err, 'err');
      $('pay').disabled = false;
    });
  }

  function start() {
    $('pay').addEventListener('click', pay);
    api('GET', '/api/me').then(function (res) {
      if (res.status === 401) {
        signIn();
        return;
      }
      if (res.status !== 200) {
        status('signin', 'GET /api/me: ' + errorText(res), 'err');
        return;
      }
      showUser(res.body);
      configure();
    }, function (err) {
      status('signin', 'GET /api/me: ' + err, 'err');
    });
  }

  start();
})();
