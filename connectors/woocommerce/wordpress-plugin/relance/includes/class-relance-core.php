<?php
/**
 * The pure parts of the plugin: payloads, signatures, URLs and decisions.
 *
 * No WordPress or WooCommerce call in here, so plain PHP can test it (tests/php/run.php).
 *
 * @package Relance
 */

// Loaded by relance.php inside WordPress, or directly by the plain-PHP tests.
if ( ! defined( 'ABSPATH' ) && ! defined( 'RELANCE_TESTING' ) ) {
	exit;
}

/**
 * Payload building, signing, URL building and the consent and debounce decisions.
 */
final class Relance_Core {

	const TIMESTAMP_HEADER = 'X-Relance-Timestamp';
	const SIGNATURE_HEADER = 'X-Relance-Signature';
	const ORDER_META       = '_relance_cart_token';
	const ORDER_URL_META   = '_relance_recovery_url';
	const ORDER_LOCALE     = '_relance_locale';
	const RESTORE_PARAM    = 'relance_restore';
	const COUPON_PARAM     = 'coupon';
	const EVENTS           = array( 'cart.updated', 'checkout.email', 'cart.emptied' );
	const VIEWED           = 'product.viewed';
	const SIGNUP           = 'newsletter.signup';
	const VIEWS_KEPT       = 50;

	/**
	 * The event body the bridge expects (POST /webhooks/wordpress/<shop_key>).
	 *
	 * @param string $event        cart.updated, checkout.email or cart.emptied.
	 * @param array  $cart         cart_token, session_key, items (raw lines), subtotal, currency, recovery_url, decimals.
	 * @param int    $ts           Unix time the cart was read.
	 * @param array  $optional     email, customer_id, order_id (block draft order), marketing_consent, locale.
	 * @return array
	 * @throws InvalidArgumentException For an unknown event or a malformed token.
	 */
	public static function build_payload( $event, array $cart, $ts, array $optional = array() ) {
		if ( ! in_array( $event, self::EVENTS, true ) ) {
			throw new InvalidArgumentException( 'unknown event ' . $event );
		}
		if ( ! self::is_valid_token( isset( $cart['cart_token'] ) ? $cart['cart_token'] : '' ) ) {
			throw new InvalidArgumentException( 'malformed cart token' );
		}
		$items    = isset( $cart['items'] ) ? $cart['items'] : array();
		$decimals = isset( $cart['decimals'] ) ? (int) $cart['decimals'] : 2;
		$payload  = array(
			'event'        => $event,
			'cart_token'   => $cart['cart_token'],
			'session_key'  => (string) ( isset( $cart['session_key'] ) ? $cart['session_key'] : '' ),
			'items'        => 'cart.emptied' === $event ? array() : self::normalize_items( $items, $decimals ),
			'subtotal'     => 'cart.emptied' === $event ? '0' : self::money( isset( $cart['subtotal'] ) ? $cart['subtotal'] : 0, $decimals ),
			'currency'     => strtoupper( (string) ( isset( $cart['currency'] ) ? $cart['currency'] : '' ) ),
			'recovery_url' => (string) ( isset( $cart['recovery_url'] ) ? $cart['recovery_url'] : '' ),
			'ts'           => (int) $ts,
		);
		$email = isset( $optional['email'] ) ? self::clean_email( $optional['email'] ) : null;
		if ( null !== $email ) {
			$payload['email'] = $email;
		}
		foreach ( array( 'customer_id', 'order_id' ) as $id_key ) {
			if ( ! empty( $optional[ $id_key ] ) && (int) $optional[ $id_key ] > 0 ) {
				$payload[ $id_key ] = (int) $optional[ $id_key ];
			}
		}
		if ( null !== $email && ! empty( $optional['marketing_consent'] ) ) {
			$payload['marketing_consent'] = true;
		}
		$locale = self::clean_locale( isset( $optional['locale'] ) ? $optional['locale'] : null );
		if ( null !== $locale ) {
			$payload['locale'] = $locale;
		}
		return $payload;
	}

	/**
	 * A product page seen (POST /webhooks/wordpress/<shop_key>, signed like every event). A guest's view
	 * carries the session key only: Relance keeps it as the session's history until a signed event of the
	 * same session names the shopper. A logged-in customer's carries the customer id, never an email.
	 *
	 * @param mixed  $product_id  The product's id.
	 * @param string $session_key From session_key().
	 * @param int    $ts          Unix time of the view.
	 * @param int    $customer_id The logged-in customer's id, 0 for a guest.
	 * @return array|null Null when there is no product or no session to tie the view to.
	 */
	public static function view_payload( $product_id, $session_key, $ts, $customer_id = 0 ) {
		$product_id = is_numeric( $product_id ) ? (int) $product_id : 0;
		$session    = (string) $session_key;
		if ( $product_id <= 0 || '' === $session ) {
			return null;
		}
		$payload = array(
			'event'       => self::VIEWED,
			'session_key' => $session,
			'product_id'  => $product_id,
			'ts'          => (int) $ts,
		);
		if ( (int) $customer_id > 0 ) {
			$payload['customer_id'] = (int) $customer_id;
		}
		return $payload;
	}

	/**
	 * A newsletter sign-up, only when the visitor consented (ticked the box, or the form says so).
	 *
	 * @param mixed  $email       The address signed up.
	 * @param bool   $consented   The visitor agreed to marketing emails.
	 * @param string $session_key From session_key(), '' when the visitor has no session.
	 * @param int    $ts          Unix time of the sign-up.
	 * @param array  $optional    customer_id, source (checkout, fluentcrm, form), locale.
	 * @return array|null Null without consent or without a valid email: nothing is sent.
	 */
	public static function signup_payload( $email, $consented, $session_key, $ts, array $optional = array() ) {
		$email = self::clean_email( $email );
		if ( true !== $consented || null === $email ) {
			return null;
		}
		$payload = array(
			'event'             => self::SIGNUP,
			'session_key'       => (string) $session_key,
			'email'             => $email,
			'marketing_consent' => true,
			'ts'                => (int) $ts,
		);
		if ( ! empty( $optional['customer_id'] ) && (int) $optional['customer_id'] > 0 ) {
			$payload['customer_id'] = (int) $optional['customer_id'];
		}
		$source = isset( $optional['source'] ) ? preg_replace( '/[^a-z0-9_-]/', '', strtolower( (string) $optional['source'] ) ) : '';
		if ( '' !== $source ) {
			$payload['source'] = substr( $source, 0, 40 );
		}
		$locale = self::clean_locale( isset( $optional['locale'] ) ? $optional['locale'] : null );
		if ( null !== $locale ) {
			$payload['locale'] = $locale;
		}
		return $payload;
	}

	/**
	 * Whether a product view is new for this session today (Relance counts one a product a day), and the
	 * views remembered after it (the latest VIEWS_KEPT).
	 *
	 * @param array $seen       Keys "<product_id>:<Y-m-d>" already sent.
	 * @param int   $product_id The product.
	 * @param int   $ts         Unix time of the view.
	 * @return array [bool $send, array $seen]
	 */
	public static function note_view( array $seen, $product_id, $ts ) {
		$key = (int) $product_id . ':' . gmdate( 'Y-m-d', (int) $ts );
		if ( in_array( $key, $seen, true ) ) {
			return array( false, $seen );
		}
		$seen[] = $key;
		return array( true, array_slice( $seen, -self::VIEWS_KEPT ) );
	}

	/**
	 * The shopper's language: WPML's current language code ("fr"), else Polylang's current locale
	 * ("fr_FR"), else WordPress's ("fr_FR"); null when none is usable.
	 *
	 * @param mixed $wpml      What the wpml_current_language filter gave (null without WPML).
	 * @param mixed $polylang  What pll_current_language( 'locale' ) gave (null without Polylang).
	 * @param mixed $wordpress What determine_locale() (or get_locale()) gave.
	 * @return string|null
	 */
	public static function pick_locale( $wpml, $polylang, $wordpress ) {
		foreach ( array( $wpml, $polylang, $wordpress ) as $candidate ) {
			$locale = self::clean_locale( $candidate );
			if ( null !== $locale ) {
				return $locale;
			}
		}
		return null;
	}

	/**
	 * A language tag or WordPress locale ("fr", "fr_FR", "pt-BR", "de_DE_formal"), or null.
	 *
	 * @param mixed $locale The value.
	 * @return string|null
	 */
	public static function clean_locale( $locale ) {
		$locale = is_string( $locale ) ? trim( $locale ) : '';
		if ( 1 !== preg_match( '/^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8}){0,3}$/', $locale ) || strlen( $locale ) > 35 ) {
			return null;
		}
		return $locale;
	}

	/**
	 * Cart lines as {product_id, variation_id, title, quantity, price (unit, decimal string)}.
	 *
	 * @param array $lines    Lines with product_id, variation_id, title, quantity and price (unit price).
	 * @param int   $decimals The store's price decimals.
	 * @return array
	 */
	public static function normalize_items( array $lines, $decimals = 2 ) {
		$items = array();
		foreach ( $lines as $line ) {
			$quantity = isset( $line['quantity'] ) ? (int) $line['quantity'] : 0;
			if ( $quantity <= 0 ) {
				continue;
			}
			$items[] = array(
				'product_id'   => isset( $line['product_id'] ) ? (int) $line['product_id'] : 0,
				'variation_id' => isset( $line['variation_id'] ) ? (int) $line['variation_id'] : 0,
				'title'        => substr( (string) ( isset( $line['title'] ) ? $line['title'] : '' ), 0, 255 ),
				'quantity'     => $quantity,
				'price'        => self::money( isset( $line['price'] ) ? $line['price'] : 0, $decimals ),
			);
		}
		return $items;
	}

	/**
	 * An amount as a plain decimal string ("12.5" -> "12.50"), never negative.
	 *
	 * @param mixed $amount   A number or numeric string.
	 * @param int   $decimals Decimals to keep.
	 * @return string
	 */
	public static function money( $amount, $decimals = 2 ) {
		$value = is_numeric( $amount ) ? (float) $amount : 0.0;
		return number_format( max( 0.0, $value ), max( 0, (int) $decimals ), '.', '' );
	}

	/**
	 * The JSON body, exactly as signed and sent.
	 *
	 * @param array $payload From build_payload().
	 * @return string
	 * @throws RuntimeException When the payload cannot be encoded.
	 */
	public static function encode( array $payload ) {
		$body = json_encode( $payload, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE );
		if ( false === $body ) {
			throw new RuntimeException( 'payload cannot be encoded' );
		}
		return $body;
	}

	/**
	 * The signature: base64 of HMAC-SHA256 over "<timestamp>.<body>" with the shop's secret.
	 *
	 * @param string $body   Raw JSON body.
	 * @param string $secret The shop's signing secret.
	 * @param int    $ts     Unix time of sending.
	 * @return string
	 */
	public static function sign( $body, $secret, $ts ) {
		return base64_encode( hash_hmac( 'sha256', (int) $ts . '.' . $body, (string) $secret, true ) );
	}

	/**
	 * The HTTP headers of a signed event.
	 *
	 * @param string $body   Raw JSON body.
	 * @param string $secret The shop's signing secret.
	 * @param int    $ts     Unix time of sending.
	 * @return array
	 */
	public static function headers( $body, $secret, $ts ) {
		return array(
			'Content-Type'         => 'application/json',
			self::TIMESTAMP_HEADER => (string) (int) $ts,
			self::SIGNATURE_HEADER => self::sign( $body, $secret, $ts ),
		);
	}

	/**
	 * The bridge's endpoint for this shop's events.
	 *
	 * @param string $bridge_url The bridge's public URL.
	 * @param string $shop_key   The shop key shown by the install flow.
	 * @return string
	 */
	public static function endpoint( $bridge_url, $shop_key ) {
		return rtrim( trim( (string) $bridge_url ), '/' ) . '/webhooks/wordpress/' . rawurlencode( trim( (string) $shop_key ) );
	}

	/**
	 * The link that restores a cart (the bridge appends &coupon=<code> to offers).
	 *
	 * @param string      $base   The cart page URL.
	 * @param string      $token  The cart token.
	 * @param string|null $coupon A coupon code to apply, if any.
	 * @return string
	 */
	public static function recovery_url( $base, $token, $coupon = null ) {
		$fragment = '';
		$hash     = strpos( $base, '#' );
		if ( false !== $hash ) {
			$fragment = substr( $base, $hash );
			$base     = substr( $base, 0, $hash );
		}
		$query = self::RESTORE_PARAM . '=' . rawurlencode( $token );
		if ( null !== $coupon && '' !== $coupon ) {
			$query .= '&' . self::COUPON_PARAM . '=' . rawurlencode( $coupon );
		}
		$separator = false === strpos( $base, '?' ) ? '?' : ( '?' === substr( $base, -1 ) || '&' === substr( $base, -1 ) ? '' : '&' );
		return $base . $separator . $query . $fragment;
	}

	/**
	 * Whether the shopper's email may be sent to Relance.
	 *
	 * @param bool $consent_required The merchant asks for the marketing checkbox.
	 * @param bool $ticked           The shopper ticked it (or a consent plugin says yes).
	 * @return bool
	 */
	public static function may_send_email( $consent_required, $ticked ) {
		return ! $consent_required || true === $ticked;
	}

	/**
	 * Whether to send now or leave it to the trailing send of the debounce window.
	 *
	 * @param int|null $last_sent Unix time of the last send for this session, if any.
	 * @param int      $now       Unix time now.
	 * @param int      $window    Debounce window in seconds.
	 * @return bool
	 */
	public static function send_now( $last_sent, $now, $window ) {
		return null === $last_sent || $now - (int) $last_sent >= $window || $now < (int) $last_sent;
	}

	/**
	 * A new unguessable cart token (32 hex characters).
	 *
	 * @return string
	 */
	public static function new_token() {
		return bin2hex( random_bytes( 16 ) );
	}

	/**
	 * Whether a value is a cart token this plugin made.
	 *
	 * @param mixed $token The value.
	 * @return bool
	 */
	public static function is_valid_token( $token ) {
		return is_string( $token ) && 1 === preg_match( '/^[a-f0-9]{32}$/', $token );
	}

	/**
	 * The session identity sent to the bridge: a digest, never WooCommerce's session id itself.
	 *
	 * @param string $customer_id WC()->session->get_customer_id().
	 * @param string $salt        A site secret (wp_salt()).
	 * @return string
	 */
	public static function session_key( $customer_id, $salt ) {
		return substr( hash_hmac( 'sha256', (string) $customer_id, (string) $salt ), 0, 32 );
	}

	/**
	 * A trimmed email, or null when it does not look like one.
	 *
	 * @param mixed $email The value.
	 * @return string|null
	 */
	public static function clean_email( $email ) {
		$email = is_string( $email ) ? trim( $email ) : '';
		if ( '' === $email || strlen( $email ) > 254 || false === filter_var( $email, FILTER_VALIDATE_EMAIL ) ) {
			return null;
		}
		return $email;
	}

	/**
	 * Whether a failed delivery is worth trying again: no answer (Relance down), a timeout, too many
	 * requests, or a server error. Other refusals (a bad signature, an unknown shop) would fail again.
	 *
	 * @param int $code The HTTP status, 0 for no answer.
	 * @return bool
	 */
	public static function retryable( $code ) {
		$code = (int) $code;
		return 0 === $code || 408 === $code || 429 === $code || $code >= 500;
	}

	/**
	 * Seconds to wait before the next try after `$attempt` earlier tries, or null to give up: 1, 5, 15, 60
	 * then 180 minutes (about four and a half hours in all, within the outbox's 24 hours).
	 *
	 * @param int $attempt Tries already made before the one that just failed.
	 * @return int|null
	 */
	public static function retry_delay( $attempt ) {
		$delays = array( 60, 300, 900, 3600, 10800 );
		return isset( $delays[ $attempt ] ) ? $delays[ $attempt ] : null;
	}

	/**
	 * The signed notice that the plugin was deactivated (Relance uninstalls the store).
	 *
	 * @param int $ts Unix time.
	 * @return array
	 */
	public static function farewell_payload( $ts ) {
		return array(
			'event' => 'plugin.deactivated',
			'ts'    => (int) $ts,
		);
	}
}
