// node --test: the pixel's logic against a small fake of the Web Pixels standard API.
import assert from 'node:assert/strict';
import {test} from 'node:test';

import {cartToken, consentAllows, signupEmail, start} from '../src/pixel.js';

const SETTINGS = {bridgeUrl: 'https://relance.test/', publicKey: 'pk_1'};
const ALLOWED = {analyticsProcessingAllowed: true, marketingAllowed: true, preferencesProcessingAllowed: false};

/** A fake storefront: publish events, change consent, set the cart cookie; records what the pixel posts. */
function storefront({init = {}, cookie} = {}) {
  const handlers = {};
  const privacyHandlers = {};
  const jar = {cart: cookie};
  const sent = [];
  const api = {
    settings: SETTINGS,
    init: {customerPrivacy: ALLOWED, data: {}, ...init},
    analytics: {subscribe: (name, handler) => (handlers[name] = handler)},
    customerPrivacy: {subscribe: (name, handler) => (privacyHandlers[name] = handler)},
    browser: {cookie: {get: async (name) => jar[name]}},
  };
  let seq = 0;
  return {
    api,
    sent,
    handlers,
    jar,
    post: (url, body) => sent.push({url, body: JSON.parse(body)}),
    async publish(name, data = {}) {
      seq += 1;
      const event = {id: `ev-${seq}`, name, clientId: 'client-1', timestamp: '2026-11-25T10:00:00Z', data};
      await handlers[name]?.(event);
    },
    consent(privacy) {
      privacyHandlers.visitorConsentCollected?.({customerPrivacy: privacy});
    },
  };
}

function started(options) {
  const shop = storefront(options);
  assert.equal(start(shop.api, shop.post), true);
  return shop;
}

test('subscribes to the events Relance uses, the guest e-mail event included', () => {
  const shop = started();
  assert.deepEqual(Object.keys(shop.handlers).sort(), [
    'checkout_contact_info_submitted',
    'checkout_started',
    'form_submitted',
    'product_added_to_cart',
    'product_viewed',
  ]);
});

test('a guest e-mail entered at checkout is sent with the checkout token', async () => {
  const shop = started();
  await shop.publish('checkout_contact_info_submitted', {checkout: {token: 'ck1', email: 'ana@example.com'}});
  assert.equal(shop.sent.length, 1);
  assert.equal(shop.sent[0].url, 'https://relance.test/collect/pk_1');
  assert.deepEqual(
    {event: shop.sent[0].body.event, email: shop.sent[0].body.email, token: shop.sent[0].body.checkout_token},
    {event: 'checkout_contact_info_submitted', email: 'ana@example.com', token: 'ck1'},
  );
});

test('the cart token of a first add-to-cart comes from the cart cookie set after the page loaded', async () => {
  const shop = started({init: {data: {cart: null}}});
  shop.jar.cart = 'c1-abc123?key=secret';
  await shop.publish('product_added_to_cart', {cartLine: {merchandise: {product: {id: '42'}}}});
  assert.equal(shop.sent[0].body.cart_token, 'c1-abc123');
  assert.equal(shop.sent[0].body.product_id, '42');
});

test('the cart of the event wins over the cookie and the cart the page loaded with', async () => {
  const shop = started({init: {data: {cart: {id: 'gid://shopify/Cart/c1-old?key=k'}}}, cookie: 'c1-cookie'});
  await shop.publish('product_added_to_cart', {cart: {id: 'gid://shopify/Cart/c1-event?key=k'}});
  await shop.publish('product_added_to_cart', {});
  shop.jar.cart = undefined;
  await shop.publish('product_added_to_cart', {});
  assert.deepEqual(
    shop.sent.map((s) => s.body.cart_token),
    ['c1-event', 'c1-cookie', 'c1-old'],
  );
});

test('nothing is sent once the visitor withdraws consent, and sending resumes when it is given again', async () => {
  const shop = started();
  await shop.publish('product_viewed', {productVariant: {product: {id: '1'}}});
  shop.consent({analyticsProcessingAllowed: true, marketingAllowed: false});
  await shop.publish('product_viewed', {productVariant: {product: {id: '2'}}});
  await shop.publish('checkout_contact_info_submitted', {checkout: {token: 'ck1', email: 'ana@example.com'}});
  shop.consent(ALLOWED);
  await shop.publish('product_viewed', {productVariant: {product: {id: '3'}}});
  assert.deepEqual(shop.sent.map((s) => s.body.product_id), ['1', '3']);
});

test('a page loaded without consent sends nothing', async () => {
  const shop = started({init: {customerPrivacy: {analyticsProcessingAllowed: true, marketingAllowed: false}}});
  await shop.publish('checkout_started', {checkout: {token: 'ck1', email: 'ana@example.com'}});
  assert.equal(shop.sent.length, 0);
});

const field = (name, value, type = 'text') => ({name, value, type, tagName: 'INPUT'});

test('e-mails come only from the store newsletter and account sign-up forms', async () => {
  const shop = started();
  const newsletter = [field('form_type', 'customer', 'hidden'), field('contact[email]', ' ana@example.com ', 'email')];
  const signup = [field('form_type', 'create_customer', 'hidden'), field('customer[email]', 'bo@example.com', 'email')];
  const contact = [field('form_type', 'contact', 'hidden'), field('contact[email]', 'cy@example.com', 'email')];
  const thirdParty = [field('email', 'di@example.com', 'email')];
  const login = [field('form_type', 'customer_login', 'hidden'), field('customer[email]', 'ed@example.com', 'email')];
  for (const elements of [newsletter, signup, contact, thirdParty, login]) {
    await shop.publish('form_submitted', {element: {id: 'f', action: '/contact', elements}});
  }
  assert.deepEqual(shop.sent.map((s) => s.body.email), ['ana@example.com', 'bo@example.com']);
});

test('a missing bridge URL or key leaves the pixel idle', () => {
  const shop = storefront();
  shop.api.settings = {bridgeUrl: '', publicKey: 'pk_1'};
  assert.equal(start(shop.api, shop.post), false);
  assert.deepEqual(shop.handlers, {});
});

test('helpers', () => {
  assert.equal(cartToken('gid://shopify/Cart/c1-x?key=y'), 'c1-x');
  assert.equal(cartToken(''), undefined);
  assert.equal(signupEmail({elements: [field('form_type', 'customer'), field('contact[email]', 'not-an-email')]}), undefined);
  assert.equal(consentAllows(undefined), false);
});

test('a product view and an add-to-cart name the variant too (ids only: the bridge asks the store the rest)', async () => {
  const shop = started();
  await shop.publish('product_viewed', {productVariant: {id: '901', title: 'Large', product: {id: '42', title: 'Bowl'}}});
  await shop.publish('product_added_to_cart', {cartLine: {merchandise: {id: '902', product: {id: '43'}}}});
  assert.deepEqual(
    shop.sent.map((s) => [s.body.product_id, s.body.variant_id, s.body.title]),
    [['42', '901', undefined], ['43', '902', undefined]],
  );
});
