'use strict';
// Written by `llmspy run` next to llmspy's CA and loaded into Node programs
// with NODE_OPTIONS=--require. Node's built-in fetch (undici) ignores
// HTTPS_PROXY unless NODE_USE_ENV_PROXY=1 is set on a Node that supports it
// (22.21+ on the 22 line, 24+), and http/https.request ignore it before
// 22.21 / 24.5. On older Nodes this rewrites those requests to llmspy's
// base-URL form, http://LLMSPY/via/SCHEME/HOST:PORT/PATH, which llmspy
// forwards to the real server over TLS: no CONNECT and no CA needed.
(() => {
  const [major, minor] = process.versions.node.split('.').map(Number);
  const envProxyFetch = major >= 24 || (major === 22 && minor >= 21);
  const envProxyHttp =
    major >= 25 || (major === 24 && minor >= 5) || (major === 22 && minor >= 21);
  const nodeDoesIt = process.env.NODE_USE_ENV_PROXY === '1';
  const proxyText = process.env.HTTPS_PROXY || process.env.https_proxy;
  if (!proxyText || (nodeDoesIt && envProxyFetch && envProxyHttp)) return;
  let proxy;
  try {
    proxy = new URL(proxyText);
  } catch {
    return;
  }
  if (proxy.protocol !== 'http:') return;
  const proxyHost = proxy.hostname.replace(/^\[|\]$/g, '');
  const proxyPort = Number(proxy.port || 80);
  // The user part names the program (`llmspy run` puts it there).
  const auth =
    proxy.username || proxy.password
      ? 'Basic ' +
        Buffer.from(
          decodeURIComponent(proxy.username) + ':' + decodeURIComponent(proxy.password),
        ).toString('base64')
      : null;
  const noProxy = (process.env.NO_PROXY || process.env.no_proxy || '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);

  function bypassed(host) {
    host = host.toLowerCase().replace(/^\[|\]$/g, '');
    return noProxy.some(
      (n) => n === '*' || host === n.replace(/^\./, '') || host.endsWith(n.startsWith('.') ? n : '.' + n),
    );
  }

  // The llmspy path for `url`, or null to leave the request alone.
  function viaPath(url) {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const scheme = url.protocol.slice(0, -1);
    const port = Number(url.port || (scheme === 'https' ? 443 : 80));
    if (host === proxyHost && port === proxyPort) return null;
    if (bypassed(host)) return null;
    return `/via/${scheme}/${url.host}${url.pathname}${url.search}`;
  }

  const http = require('node:http');
  const https = require('node:https');

  if (!(nodeDoesIt && envProxyFetch) && typeof globalThis.fetch === 'function') {
    const original = globalThis.fetch;
    globalThis.fetch = function fetch(input, init) {
      let request;
      try {
        request = new Request(input, init);
      } catch {
        return original.call(this, input, init);
      }
      const path = viaPath(new URL(request.url));
      if (path === null) return original.call(this, input, init);
      const headers = new Headers(request.headers);
      if (auth) headers.set('proxy-authorization', auth);
      const target = `http://${proxy.host}${path}`;
      return original.call(this, target, {
        method: request.method,
        headers,
        body: request.body,
        duplex: 'half',
        redirect: request.redirect,
        signal: request.signal,
      });
    };
  }

  if (!(nodeDoesIt && envProxyHttp)) {
    const plainRequest = http.request;
    for (const [mod, defaultProtocol] of [
      [http, 'http:'],
      [https, 'https:'],
    ]) {
      const original = mod.request;
      mod.request = function request(...args) {
        const call = normalise(args, defaultProtocol);
        const path = call && !call.options.socketPath ? viaPath(call.url) : null;
        if (path === null) return original.apply(this, args);
        const options = { ...call.options };
        for (const k of ['agent', 'host', 'hostname', 'port', 'protocol', 'servername', 'createConnection', 'lookup']) {
          delete options[k];
        }
        options.hostname = proxyHost;
        options.port = proxyPort;
        options.path = path;
        options.headers = { ...(call.options.headers || {}) };
        if (auth) options.headers['proxy-authorization'] = auth;
        return call.callback
          ? plainRequest.call(http, options, call.callback)
          : plainRequest.call(http, options);
      };
      mod.get = function get(...args) {
        const req = mod.request(...args);
        req.end();
        return req;
      };
    }
  }
  require('node:module').syncBuiltinESMExports();

  // (url | options)[, options][, callback] → the URL and merged options.
  function normalise(args, defaultProtocol) {
    let [first, second, third] = args;
    let callback = typeof third === 'function' ? third : undefined;
    if (typeof second === 'function') {
      callback = second;
      second = undefined;
    }
    let options;
    if (typeof first === 'string' || first instanceof URL) {
      const u = new URL(first);
      options = {
        protocol: u.protocol,
        hostname: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        ...(second || {}),
      };
    } else if (first && typeof first === 'object') {
      options = { ...first };
    } else {
      return null;
    }
    const protocol = options.protocol || defaultProtocol;
    const host = options.hostname || (options.host || 'localhost').replace(/:\d+$/, '');
    const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    const port = options.port ? `:${options.port}` : '';
    let url;
    try {
      url = new URL(`${protocol}//${bracketed}${port}${options.path || '/'}`);
    } catch {
      return null;
    }
    return { url, options, callback };
  }
})();
