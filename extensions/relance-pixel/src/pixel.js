// The Relance web pixel's logic, kept apart from Shopify's `register` so node's test runner can drive it
// with a fake of the Web Pixels standard API (analytics, browser, init, customerPrivacy, settings).
//
// What it sends to the bridge's public collect endpoint: product views, add-to-carts (with the cart token),
// checkout starts and the e-mail a guest enters at checkout (checkout_contact_info_submitted), and the
// e-mail typed into the store's own newsletter or account sign-up form. It reads no other form, and sends
// nothing while the visitor's consent to analytics and marketing is withdrawn.

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// Liquid's {% form 'customer' %} (newsletter) and {% form 'create_customer' %} (account sign-up) carry a
// hidden `form_type` field with these values; their e-mail fields are named as below.
export const SIGNUP_FORM_TYPES = new Set(['customer', 'create_customer']);
export const SIGNUP_EMAIL_FIELDS = new Set(['contact[email]', 'customer[email]']);

/** The bare cart token of a cart id (gid://shopify/Cart/<token>?key=…) or cart cookie (<token>?key=…). */
export function cartToken(value) {
  if (!value) return undefined;
  const token = String(value).replace('gid://shopify/Cart/', '').split('?')[0].trim();
  return token || undefined;
}

/** The e-mail of a submitted newsletter or account sign-up form of the store; undefined for any other form. */
export function signupEmail(form) {
  const fields = Array.isArray(form?.elements) ? form.elements : [];
  const type = fields.find((field) => field?.name === 'form_type')?.value;
  if (!SIGNUP_FORM_TYPES.has(type)) return undefined;
  const email = fields.find((field) => SIGNUP_EMAIL_FIELDS.has(field?.name))?.value?.trim();
  return email && EMAIL.test(email) ? email : undefined;
}

/** Whether the visitor's consent lets the pixel send: analytics and marketing both allowed. */
export function consentAllows(privacy) {
  return Boolean(privacy?.analyticsProcessingAllowed && privacy?.marketingAllowed);
}

/** Subscribe the pixel's handlers; `post(url, body)` sends one event (fetch in the sandbox). */
export function start(api, post) {
  const {analytics, browser, init, settings, customerPrivacy} = api;
  const base = String(settings?.bridgeUrl || '').replace(/\/+$/, '');
  const key = settings?.publicKey;
  if (!base || !key) return false;
  const endpoint = `${base}/collect/${encodeURIComponent(key)}`;
  const customerEmail = init?.data?.customer?.email || undefined;
  // Shopify loads the pixel only with consent (shopify.extension.toml); it may be withdrawn mid-session.
  let allowed = init?.customerPrivacy ? consentAllows(init.customerPrivacy) : true;
  customerPrivacy?.subscribe?.('visitorConsentCollected', (event) => {
    allowed = consentAllows(event?.customerPrivacy);
  });

  async function currentCart(event) {
    // The cart of the event, else the cart cookie as it is now (a first add-to-cart creates the cart after
    // the page loaded, so init.data.cart is empty then), else the cart the page was rendered with.
    const fromEvent = cartToken(event?.data?.cart?.id);
    if (fromEvent) return fromEvent;
    try {
      const cookie = cartToken(await browser?.cookie?.get('cart'));
      if (cookie) return cookie;
    } catch {
      // no cookie access: fall through
    }
    return cartToken(init?.data?.cart?.id);
  }

  function send(event, extra) {
    if (!allowed || !event?.clientId) return;
    const body = {
      event: event.name,
      id: event.id,
      client_id: event.clientId,
      timestamp: event.timestamp,
      email: customerEmail,
      url: event.context?.document?.location?.href,
      ...extra,
    };
    Promise.resolve(post(endpoint, JSON.stringify(body))).catch(() => {});
  }

  analytics.subscribe('product_viewed', (event) => {
    const variant = event.data?.productVariant;
    send(event, {product_id: variant?.product?.id, variant_id: variant?.id});
  });

  analytics.subscribe('product_added_to_cart', async (event) => {
    const cart = await currentCart(event);
    const variant = event.data?.cartLine?.merchandise;
    send(event, {product_id: variant?.product?.id, variant_id: variant?.id, cart_token: cart});
  });

  analytics.subscribe('checkout_started', (event) => {
    const checkout = event.data?.checkout || {};
    send(event, {checkout_token: checkout.token, email: checkout.email || customerEmail});
  });

  // The event that carries a guest's e-mail: checkout_started fires before the contact step.
  analytics.subscribe('checkout_contact_info_submitted', (event) => {
    const checkout = event.data?.checkout || {};
    const email = checkout.email || customerEmail;
    if (email) send(event, {checkout_token: checkout.token, email});
  });

  analytics.subscribe('form_submitted', (event) => {
    const email = signupEmail(event.data?.element);
    if (email) send(event, {email});
  });
  return true;
}
