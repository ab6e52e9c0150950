// Relance web pixel: forwards a few storefront events to the bridge's public collect endpoint.
// Runs in Shopify's strict sandbox (no DOM). The body goes as text/plain, a CORS "simple" request, so
// keepalive sends need no preflight; the bridge parses the body as JSON whatever its content type.
import {register} from '@shopify/web-pixels-extension';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function cartToken(cart) {
  // Cart ids look like gid://shopify/Cart/<token>?key=...; the bridge keeps the part before "?key=".
  return cart?.id ? String(cart.id).replace('gid://shopify/Cart/', '') : undefined;
}

function formEmail(element) {
  const inputs = element?.elements || [];
  const found = inputs.find(
    (input) => (input?.type === 'email' || /email/i.test(input?.name || '')) && EMAIL.test(input?.value || ''),
  );
  return found?.value;
}

register(({analytics, init, settings}) => {
  const base = String(settings.bridgeUrl || '').replace(/\/+$/, '');
  const key = settings.publicKey;
  if (!base || !key) return;
  const endpoint = `${base}/collect/${encodeURIComponent(key)}`;
  const customer = init.data?.customer || {};
  const cart = init.data?.cart;

  function send(event, extra) {
    const body = {
      event: event.name,
      id: event.id,
      client_id: event.clientId,
      timestamp: event.timestamp,
      email: customer.email || undefined,
      url: event.context?.document?.location?.href,
      ...extra,
    };
    if (!body.client_id) return;
    fetch(endpoint, {
      method: 'POST',
      keepalive: true,
      credentials: 'omit',
      headers: {'Content-Type': 'text/plain;charset=UTF-8'},
      body: JSON.stringify(body),
    }).catch(() => {});
  }

  analytics.subscribe('product_viewed', (event) => {
    send(event, {product_id: event.data?.productVariant?.product?.id});
  });

  analytics.subscribe('product_added_to_cart', (event) => {
    send(event, {product_id: event.data?.cartLine?.merchandise?.product?.id, cart_token: cartToken(cart)});
  });

  analytics.subscribe('checkout_started', (event) => {
    const checkout = event.data?.checkout || {};
    send(event, {checkout_token: checkout.token, email: checkout.email || customer.email || undefined});
  });

  analytics.subscribe('form_submitted', (event) => {
    const email = formEmail(event.data?.element);
    if (email) send(event, {email});
  });
});
