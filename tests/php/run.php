<?php
/**
 * Plain-PHP tests of the plugin's pure parts (Relance_Core). Exits non-zero on failure.
 *
 * Usage: php tests/php/run.php
 *
 * @package Relance
 */

require __DIR__ . '/bootstrap.php';

$failures = 0;
$checks   = 0;

/**
 * Record one assertion.
 *
 * @param bool   $ok   Whether it held.
 * @param string $name What was checked.
 */
function check( $ok, $name ) {
	global $failures, $checks;
	++$checks;
	if ( ! $ok ) {
		++$failures;
		fwrite( STDERR, "FAIL: $name\n" );
	}
}

/**
 * Whether $call throws an exception of class $class.
 *
 * @param callable $call  The code.
 * @param string   $class Expected exception class.
 * @return bool
 */
function throws( $call, $class ) {
	try {
		$call();
	} catch ( Exception $e ) {
		return $e instanceof $class;
	}
	return false;
}

$token = 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb';
$cart  = array(
	'cart_token'   => $token,
	'session_key'  => 'sess',
	'items'        => array(
		array( 'product_id' => '31', 'variation_id' => 0, 'title' => 'Tee', 'quantity' => '2', 'price' => 12.5 ),
		array( 'product_id' => 5, 'variation_id' => 0, 'title' => 'Gone', 'quantity' => 0, 'price' => 3 ),
	),
	'subtotal'     => 25,
	'currency'     => 'usd',
	'recovery_url' => 'https://shop.example.com/cart/?relance_restore=' . $token,
);

// Payload building.
$p = Relance_Core::build_payload( 'cart.updated', $cart, 1700000000 );
check( array( 'event', 'cart_token', 'session_key', 'items', 'subtotal', 'currency', 'recovery_url', 'ts' ) === array_keys( $p ), 'payload keys and order' );
check( 1 === count( $p['items'] ), 'lines without quantity are dropped' );
check( array( 'product_id' => 31, 'variation_id' => 0, 'title' => 'Tee', 'quantity' => 2, 'price' => '12.50' ) === $p['items'][0], 'line normalized' );
check( '25.00' === $p['subtotal'] && 'USD' === $p['currency'] && 1700000000 === $p['ts'], 'money, currency and time' );
check( ! isset( $p['email'] ) && ! isset( $p['customer_id'] ) && ! isset( $p['marketing_consent'] ), 'no optional keys by default' );
$p = Relance_Core::build_payload( 'checkout.email', $cart, 1, array( 'email' => ' a@b.co ', 'customer_id' => 9, 'order_id' => 0, 'marketing_consent' => true ) );
check( 'a@b.co' === $p['email'] && 9 === $p['customer_id'] && ! isset( $p['order_id'] ) && true === $p['marketing_consent'], 'optional keys' );
$p = Relance_Core::build_payload( 'checkout.email', $cart, 1, array( 'email' => 'not-an-email', 'marketing_consent' => true ) );
check( ! isset( $p['email'] ) && ! isset( $p['marketing_consent'] ), 'a bad email is left out, and consent with it' );
$p = Relance_Core::build_payload( 'cart.emptied', $cart, 1 );
check( array() === $p['items'] && '0' === $p['subtotal'], 'an emptied cart has no items' );
check( '[]' === json_encode( $p['items'] ), 'no items encode as a JSON list' );
check( throws( function () use ( $cart ) { Relance_Core::build_payload( 'cart.exploded', $cart, 1 ); }, 'InvalidArgumentException' ), 'unknown event refused' );
$bad = array_merge( $cart, array( 'cart_token' => 'short' ) );
check( throws( function () use ( $bad ) { Relance_Core::build_payload( 'cart.updated', $bad, 1 ); }, 'InvalidArgumentException' ), 'malformed token refused' );
$three = Relance_Core::build_payload( 'cart.updated', array_merge( $cart, array( 'decimals' => 3 ) ), 1 );
check( '12.500' === $three['items'][0]['price'] && '25.000' === $three['subtotal'], 'store decimals kept' );

// Product views and newsletter sign-ups.
$v = Relance_Core::view_payload( '31', 'sess', 1700000000 );
check( array( 'event' => 'product.viewed', 'session_key' => 'sess', 'product_id' => 31, 'ts' => 1700000000 ) === $v, 'a guest\'s product view' );
check( 9 === Relance_Core::view_payload( 31, 'sess', 1, 9 )['customer_id'], 'a customer\'s view names the customer' );
check( null === Relance_Core::view_payload( 0, 'sess', 1 ) && null === Relance_Core::view_payload( 31, '', 1 ), 'no product or no session: no view' );
check( null === Relance_Core::signup_payload( 'a@b.co', false, 'sess', 1 ), 'no consent: no sign-up' );
check( null === Relance_Core::signup_payload( 'nope', true, 'sess', 1 ), 'no valid email: no sign-up' );
$s = Relance_Core::signup_payload( ' a@b.co ', true, 'sess', 5, array( 'source' => 'Check out!', 'customer_id' => 3, 'locale' => 'fr_FR' ) );
check( 'a@b.co' === $s['email'] && true === $s['marketing_consent'] && 'checkout' === $s['source'] && 3 === $s['customer_id'] && 'fr_FR' === $s['locale'], 'a consented sign-up' );
list( $send, $seen ) = Relance_Core::note_view( array(), 31, 1700000000 );
list( $again, $seen ) = Relance_Core::note_view( $seen, 31, 1700000100 );
list( $tomorrow, $seen ) = Relance_Core::note_view( $seen, 31, 1700000000 + 86400 );
check( $send && ! $again && $tomorrow && 2 === count( $seen ), 'one view a product a day' );
$many = array();
for ( $i = 1; $i <= 60; $i++ ) {
	list( , $many ) = Relance_Core::note_view( $many, $i, 1 );
}
check( Relance_Core::VIEWS_KEPT === count( $many ), 'the views remembered are bounded' );

// Money.
check( '12.50' === Relance_Core::money( '12.5' ) && '0.00' === Relance_Core::money( 'abc' ) && '0.00' === Relance_Core::money( -3 ), 'money' );
check( '1200' === Relance_Core::money( 1200, 0 ), 'money without decimals' );

// Encoding and signing.
$body = Relance_Core::encode( array( 'title' => 'Café / thé', 'url' => 'https://x.test/a' ) );
check( '{"title":"Café / thé","url":"https://x.test/a"}' === $body, 'unescaped slashes and unicode' );
$known = base64_encode( hash_hmac( 'sha256', '1700000000.' . $body, 'secret', true ) );
check( Relance_Core::sign( $body, 'secret', 1700000000 ) === $known, 'signature over ts.body' );
check( Relance_Core::sign( $body, 'secret', 1700000001 ) !== $known, 'the timestamp is signed' );
check( Relance_Core::sign( $body . ' ', 'secret', 1700000000 ) !== $known, 'the body is signed' );
// Known answer: HMAC-SHA256(key "key", "1.{}") computed independently (Python's hmac).
check( 'G6a4FxGG78YT6LzAy9qydI8kmE18WoT6omN6+g5A0iQ=' === Relance_Core::sign( '{}', 'key', 1 ), 'known answer' );
$h = Relance_Core::headers( $body, 'secret', 1700000000 );
check( '1700000000' === $h['X-Relance-Timestamp'] && $known === $h['X-Relance-Signature'] && 'application/json' === $h['Content-Type'], 'headers' );

// URLs.
check( 'https://r.test/webhooks/wordpress/s_k%2Fx' === Relance_Core::endpoint( ' https://r.test/ ', 's_k/x' ), 'endpoint' );
check( "https://s.test/cart/?relance_restore=$token" === Relance_Core::recovery_url( 'https://s.test/cart/', $token ), 'recovery url' );
check( "https://s.test/?page_id=7&relance_restore=$token&coupon=back-1%20x" === Relance_Core::recovery_url( 'https://s.test/?page_id=7', $token, 'back-1 x' ), 'recovery url with a query and a coupon' );
check( "https://s.test/cart?relance_restore=$token#top" === Relance_Core::recovery_url( 'https://s.test/cart#top', $token ), 'fragment kept last' );

// Consent and debounce.
check( true === Relance_Core::may_send_email( false, false ), 'no consent asked: send' );
check( false === Relance_Core::may_send_email( true, false ), 'consent asked, not ticked: do not send' );
check( true === Relance_Core::may_send_email( true, true ), 'consent asked and ticked: send' );
check( Relance_Core::send_now( null, 100, 30 ) && ! Relance_Core::send_now( 90, 100, 30 ) && Relance_Core::send_now( 70, 100, 30 ), 'debounce window' );

// Tokens, sessions, emails.
$t = Relance_Core::new_token();
check( Relance_Core::is_valid_token( $t ) && Relance_Core::new_token() !== $t, 'new tokens are valid and differ' );
check( ! Relance_Core::is_valid_token( 'ABCDEF' ) && ! Relance_Core::is_valid_token( null ) && ! Relance_Core::is_valid_token( str_repeat( 'g', 32 ) ), 'bad tokens' );
check( 32 === strlen( Relance_Core::session_key( 't_1', 'salt' ) ) && Relance_Core::session_key( 't_1', 'salt' ) !== Relance_Core::session_key( 't_1', 'pepper' ), 'session keys are salted digests' );
check( null === Relance_Core::clean_email( 'x' ) && null === Relance_Core::clean_email( array() ) && 'a@b.co' === Relance_Core::clean_email( ' a@b.co ' ), 'emails' );

// The shopper's locale.
check( 'fr_FR' === Relance_Core::clean_locale( ' fr_FR ' ) && 'pt-BR' === Relance_Core::clean_locale( 'pt-BR' ) && 'de_DE_formal' === Relance_Core::clean_locale( 'de_DE_formal' ), 'locales kept' );
check( null === Relance_Core::clean_locale( '' ) && null === Relance_Core::clean_locale( 'fr FR' ) && null === Relance_Core::clean_locale( array( 'fr' ) ) && null === Relance_Core::clean_locale( '<b>' ), 'non-locales dropped' );
check( 'fr' === Relance_Core::pick_locale( 'fr', 'de_DE', 'en_US' ) && 'de_DE' === Relance_Core::pick_locale( null, 'de_DE', 'en_US' ) && 'en_US' === Relance_Core::pick_locale( '', false, 'en_US' ), 'WPML, then Polylang, then WordPress' );
check( null === Relance_Core::pick_locale( null, null, '' ), 'no locale at all' );
$with_locale = Relance_Core::build_payload( 'cart.updated', $cart, 1, array( 'locale' => 'fr_FR' ) );
check( 'fr_FR' === $with_locale['locale'], 'the locale travels with the cart event' );
$bad_locale = Relance_Core::build_payload( 'cart.updated', $cart, 1, array( 'locale' => 'no such thing' ) );
check( ! isset( $bad_locale['locale'] ), 'an unusable locale is left out' );

// Retries of deliveries.
check( Relance_Core::retryable( 0 ) && Relance_Core::retryable( 503 ) && Relance_Core::retryable( 429 ) && Relance_Core::retryable( 408 ), 'no answer, server errors and throttling are retried' );
check( ! Relance_Core::retryable( 401 ) && ! Relance_Core::retryable( 400 ) && ! Relance_Core::retryable( 200 ), 'refusals and successes are not' );
check( 60 === Relance_Core::retry_delay( 0 ) && 10800 === Relance_Core::retry_delay( 4 ) && null === Relance_Core::retry_delay( 5 ), 'bounded backoff' );

if ( $failures > 0 ) {
	fwrite( STDERR, "$failures of $checks checks failed\n" );
	exit( 1 );
}
echo "$checks checks passed\n";
