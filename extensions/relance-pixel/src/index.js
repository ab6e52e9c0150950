// Relance web pixel: runs in Shopify's strict sandbox (no DOM); the logic lives in pixel.js.
// The body goes as text/plain, a CORS "simple" request, so keepalive sends need no preflight; the bridge
// parses the body as JSON whatever its content type.
import {register} from '@shopify/web-pixels-extension';

import {start} from './pixel.js';

function post(url, body) {
  return fetch(url, {
    method: 'POST',
    keepalive: true,
    credentials: 'omit',
    headers: {'Content-Type': 'text/plain;charset=UTF-8'},
    body,
  });
}

register((api) => {
  start(api, post);
});
