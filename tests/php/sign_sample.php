<?php
/**
 * Prints one signed cart event as JSON {body, headers, url}; Python verifies it with WordPressEvents.
 *
 * Usage: php tests/php/sign_sample.php <secret> <unix-ts> [event] (a cart event, product.viewed or
 * newsletter.signup)
 *
 * @package Relance
 */

require __DIR__ . '/bootstrap.php';

$secret = isset( $argv[1] ) ? $argv[1] : 'sample-secret';
$ts     = isset( $argv[2] ) ? (int) $argv[2] : time();
$event  = isset( $argv[3] ) ? $argv[3] : 'checkout.email';
$token  = '0123456789abcdef0123456789abcdef';
$cart   = array(
	'cart_token'   => $token,
	'session_key'  => Relance_Core::session_key( 't_guest42', 'salt' ),
	'items'        => array(
		array( 'product_id' => 31, 'variation_id' => 0, 'title' => 'Café « Grain » 1kg', 'quantity' => 2, 'price' => 12.5 ),
		array( 'product_id' => 40, 'variation_id' => 41, 'title' => 'Mug / blue', 'quantity' => 1, 'price' => '9.9' ),
	),
	'subtotal'     => 34.9,
	'currency'     => 'eur',
	'recovery_url' => Relance_Core::recovery_url( 'https://shop.example.com/cart/', $token ),
);
if ( Relance_Core::VIEWED === $event ) {
	$payload = Relance_Core::view_payload( 31, $cart['session_key'], $ts );
} elseif ( Relance_Core::SIGNUP === $event ) {
	$payload = Relance_Core::signup_payload( ' Jane@Example.com ', true, $cart['session_key'], $ts, array( 'source' => 'form' ) );
} else {
	$payload = Relance_Core::build_payload(
		$event,
		$cart,
		$ts,
		array( 'email' => ' Jane@Example.com ', 'customer_id' => 7, 'marketing_consent' => true )
	);
}
$body    = Relance_Core::encode( $payload );
echo json_encode(
	array(
		'body'    => $body,
		'headers' => Relance_Core::headers( $body, $secret, $ts ),
		'url'     => Relance_Core::endpoint( 'https://relance.example.com/', 's_shopkey' ),
	),
	JSON_UNESCAPED_SLASHES
), "\n";
