<?php
/**
 * The plugin's WordPress-facing classes against tests/php/wordpress.php: deliveries retried while Relance
 * is down, and a recovery link that applies an email-restricted code in a fresh browser. Exits non-zero on
 * failure.
 *
 * Usage: php tests/php/plugin.php
 *
 * @package Relance
 */

require __DIR__ . '/wordpress.php';

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
 * Whether the next scheduled action is due in about `$seconds` from now.
 *
 * @param int $seconds The delay.
 * @return bool
 */
function in_delay( $seconds ) {
	return isset( WP::$scheduled[0] ) && abs( WP::$scheduled[0][0] - time() - $seconds ) <= 2;
}

/**
 * Run the next scheduled action, as Action Scheduler would once its time came.
 *
 * @return array|null The action.
 */
function run_next_action() {
	$action = array_shift( WP::$scheduled );
	if ( null !== $action ) {
		call_user_func_array( array( 'Relance_Sender', 'deliver' ), $action[2] );
	}
	return $action;
}

WP::$options = array(
	'relance_bridge_url' => 'https://relance.example.com',
	'relance_shop_key'   => 's_shop',
	'relance_secret'     => 'secret',
);
/**
 * What FluentCRM does when a contact becomes subscribed (the hook's argument is its subscriber model).
 *
 * @param string $email The contact's email.
 */
function do_action_stub( $email ) {
	$subscriber        = new stdClass();
	$subscriber->email = $email;
	Relance_Browse::fluentcrm_subscribed( $subscriber );
}

$payload = array( 'event' => 'cart.updated', 'cart_token' => str_repeat( 'a', 32 ), 'session_key' => 'sess' );

// Relance is down: the event waits in the outbox and is tried again later, with growing delays.
WP::reset();
WP::$answers = array( 0, 0, 503, 200 );
Relance_Sender::send( $payload );
check( 1 === count( WP::$scheduled ) && array() === WP::$posts, 'queued, not posted from the shopper\'s request' );
run_next_action();
check( 1 === count( WP::$posts ) && 1 === count( WP::$scheduled ), 'no answer: a retry is scheduled' );
check( in_delay( 60 ) && 1 === WP::$scheduled[0][2][1], 'first retry after a minute' );
run_next_action();
check( in_delay( 300 ) && 2 === WP::$scheduled[0][2][1], 'then after five minutes' );
run_next_action();
check( in_delay( 900 ), 'a server error is retried too' );
run_next_action();
check( 4 === count( WP::$posts ) && array() === WP::$scheduled, 'delivered on the fourth try, nothing left' );
check( array() === WP::$transients, 'the outbox is emptied once delivered' );
$bodies = array_unique( array_map( function ( $post ) { return $post[1]['body']; }, WP::$posts ) );
check( 1 === count( $bodies ), 'every try sends the same body (the bridge deduplicates it)' );

// Bounded: after the last delay the event is dropped, and that is logged.
WP::reset();
WP::$answers = array_fill( 0, 10, 0 );
Relance_Sender::send( $payload );
$tries = 0;
while ( null !== run_next_action() && $tries < 20 ) {
	++$tries;
}
check( 6 === count( WP::$posts ), 'six tries in all' );
check( array() === WP::$transients && 1 === count( preg_grep( '/dropped after 6 tries/', WP::$logs ) ), 'then dropped, and logged' );

// A refusal that would repeat (a bad signature) is not retried.
WP::reset();
WP::$answers = array( 401 );
Relance_Sender::send( $payload );
run_next_action();
check( 1 === count( WP::$posts ) && array() === WP::$scheduled && array() === WP::$transients, '401 is not retried' );

// Deactivating the plugin tells Relance at once, signed, without going through the outbox.
WP::reset();
WP::$answers = array( 200 );
Relance_Sender::farewell();
check( 1 === count( WP::$posts ) && array() === WP::$scheduled, 'the farewell is posted at once' );
$farewell = json_decode( WP::$posts[0][1]['body'], true );
check( 'plugin.deactivated' === $farewell['event'] && is_int( $farewell['ts'] ), 'the farewell event' );
check( 'https://relance.example.com/webhooks/wordpress/s_shop' === WP::$posts[0][0], 'to the signed endpoint' );
check( Relance_Core::sign( WP::$posts[0][1]['body'], 'secret', (int) WP::$posts[0][1]['headers']['X-Relance-Timestamp'] ) === WP::$posts[0][1]['headers']['X-Relance-Signature'], 'signed' );

// The shopper's language: WPML's, else Polylang's, else WordPress's.
WP::reset();
WP::$locale = 'fr_FR';
check( 'fr_FR' === Relance_Cart::shopper_locale(), 'WordPress\'s locale without a language plugin' );
WP::$filters['wpml_current_language'] = 'nl';
check( 'nl' === Relance_Cart::shopper_locale(), 'WPML\'s current language first' );
WP::$filters['wpml_current_language'] = null;
if ( ! function_exists( 'pll_current_language' ) ) {
	/**
	 * Polylang's current language, as a locale when asked for one.
	 *
	 * @param string $field The field wanted.
	 * @return string
	 */
	function pll_current_language( $field = 'slug' ) {
		return 'locale' === $field ? 'de_DE' : 'de';
	}
}
check( 'de_DE' === Relance_Cart::shopper_locale(), 'then Polylang\'s locale' );
WP::reset();

// A recovery link opened in a fresh browser applies a code restricted to the shopper's email.
WP::reset();
$token                         = str_repeat( 'b', 32 );
$GLOBALS['relance_test_wc']    = new Fake_WC();
WC()->session->set( Relance_Cart::EMAIL_KEY, 'Jane@Example.com' );
WC()->cart->add_to_cart( 31, 2 );
WC()->session->set( Relance_Cart::TOKEN_KEY, $token );
$remember = new ReflectionMethod( 'Relance_Cart', 'remember' );
$remember->setAccessible( true );
$remember->invoke( null, $token );
$GLOBALS['relance_test_wc']            = new Fake_WC(); // Another browser: no session, no email.
WC()->cart->coupons['back-7q2m9x']     = array( 'jane@example.com' );
Relance_Cart::open_link( $token, 'back-7q2m9x' );
check( 1 === count( WC()->cart->items ) && 2 === WC()->cart->items[0]['quantity'], 'the cart is rebuilt' );
check( array( 'back-7q2m9x' ) === WC()->cart->applied, 'the code applies: ' . implode( ' ', WC()->cart->notices ) );
check( 'Jane@Example.com' === WC()->customer->get_billing_email(), 'the billing email is the cart\'s' );
check( $token === WC()->session->get( Relance_Cart::TOKEN_KEY ), 'the same cart at Relance' );

// An email the shopper already typed in this browser is not replaced.
$GLOBALS['relance_test_wc']        = new Fake_WC();
WC()->customer->set_billing_email( 'other@example.com' );
WC()->cart->coupons['back-7q2m9x'] = array( 'jane@example.com' );
Relance_Cart::open_link( $token, 'back-7q2m9x' );
check( 'other@example.com' === WC()->customer->get_billing_email() && array() === WC()->cart->applied, 'a typed email is kept' );

// Product views: a guest with a session, once a product a day; without a session, nothing (no cookie of ours).
WP::reset();
$GLOBALS['relance_test_wc'] = new Fake_WC();
check( true === Relance_Browse::viewed( 31 ), 'a product view is sent' );
check( false === Relance_Browse::viewed( 31 ), 'the same product the same day is not sent again' );
check( true === Relance_Browse::viewed( 32 ), 'another product is' );
$sent = array_map(
	function ( $action ) {
		return json_decode( get_transient( 'relance_out_' . $action[2][0] ), true );
	},
	WP::$scheduled
);
check( 2 === count( $sent ) && 'product.viewed' === $sent[0]['event'] && 31 === $sent[0]['product_id'], 'queued through the outbox' );
check( Relance_Core::session_key( 't_guest42', 'salt' ) === $sent[0]['session_key'] && ! isset( $sent[0]['email'] ) && ! isset( $sent[0]['customer_id'] ), 'a guest\'s view carries the session, no identity' );
WP::reset();
WP::$user_id = 7;
$GLOBALS['relance_test_wc'] = new Fake_WC();
Relance_Browse::viewed( 40 );
$view = json_decode( get_transient( 'relance_out_' . WP::$scheduled[0][2][0] ), true );
check( 7 === $view['customer_id'] && ! isset( $view['email'] ), 'a customer\'s view carries the customer id, never an email' );
WP::reset();
$GLOBALS['relance_test_wc']                   = new Fake_WC();
$GLOBALS['relance_test_wc']->session->started = false;
check( false === Relance_Browse::viewed( 31 ) && array() === WP::$scheduled, 'no session yet: no view sent' );

// Newsletter sign-ups: only with the visitor's consent.
WP::reset();
$GLOBALS['relance_test_wc'] = new Fake_WC();
check( false === Relance_Browse::signup( 'ana@example.com', false ) && array() === WP::$scheduled, 'no consent: nothing sent' );
do_action_stub( 'ana@example.com' );
check( 1 === count( WP::$scheduled ), 'a consented sign-up is sent' );
$signup = json_decode( get_transient( 'relance_out_' . WP::$scheduled[0][2][0] ), true );
check( 'newsletter.signup' === $signup['event'] && 'ana@example.com' === $signup['email'] && true === $signup['marketing_consent'], 'the sign-up event' );
check( 'fluentcrm' === $signup['source'], 'its source' );

if ( $failures > 0 ) {
	fwrite( STDERR, "$failures of $checks checks failed\n" );
	exit( 1 );
}
echo "$checks checks passed\n";
