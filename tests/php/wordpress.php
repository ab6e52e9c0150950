<?php
/**
 * A small WordPress and WooCommerce for the plugin's classes outside WordPress: options, transients,
 * HTTP answers and Action Scheduler recorded in memory, and a cart that checks a coupon's email
 * restriction when it is applied, as WooCommerce 8.6+ does (WC_Discounts::validate_coupon_allowed_emails).
 *
 * @package Relance
 */

define( 'ABSPATH', __DIR__ . '/' );
define( 'RELANCE_VERSION', 'test' );
require __DIR__ . '/bootstrap.php';
require_once dirname( __DIR__, 2 ) . '/connectors/woocommerce/wordpress-plugin/relance/includes/class-relance-settings.php';
require_once dirname( __DIR__, 2 ) . '/connectors/woocommerce/wordpress-plugin/relance/includes/class-relance-sender.php';
require_once dirname( __DIR__, 2 ) . '/connectors/woocommerce/wordpress-plugin/relance/includes/class-relance-cart.php';
require_once dirname( __DIR__, 2 ) . '/connectors/woocommerce/wordpress-plugin/relance/includes/class-relance-browse.php';

/** What the fake WordPress holds. */
final class WP {
	/** @var array */
	public static $options = array();
	/** @var array */
	public static $transients = array();
	/** @var array HTTP answers to give, in order: a status code, or 0 for no answer. */
	public static $answers = array();
	/** @var array Requests made. */
	public static $posts = array();
	/** @var array Actions scheduled: [timestamp, hook, args, group]. */
	public static $scheduled = array();
	/** @var array Log lines. */
	public static $logs = array();
	/** @var array Values filters give back, by hook (a filter without an entry returns its input). */
	public static $filters = array();
	/** @var string The locale of the request (determine_locale()). */
	public static $locale = 'en_US';
	/** @var int The logged-in user's id (0: a guest). */
	public static $user_id = 0;

	/** Forget everything. */
	public static function reset() {
		self::$transients = array();
		self::$answers    = array();
		self::$posts      = array();
		self::$scheduled  = array();
		self::$logs       = array();
		self::$filters    = array();
		self::$locale     = 'en_US';
		self::$user_id    = 0;
	}
}

/** A WordPress HTTP error. */
class WP_Error {
	/** @var string */
	public $message;
	/** @param string $message What failed. */
	public function __construct( $message ) {
		$this->message = $message;
	}
}

function get_option( $name, $default = false ) {
	return array_key_exists( $name, WP::$options ) ? WP::$options[ $name ] : $default;
}
function get_transient( $key ) {
	return array_key_exists( $key, WP::$transients ) ? WP::$transients[ $key ] : false;
}
function set_transient( $key, $value, $ttl = 0 ) {
	WP::$transients[ $key ] = $value;
	return true;
}
function delete_transient( $key ) {
	unset( WP::$transients[ $key ] );
	return true;
}
function home_url( $path = '' ) {
	return 'https://shop.example.com' . $path;
}
function is_wp_error( $thing ) {
	return $thing instanceof WP_Error;
}
function wp_remote_post( $url, $args ) {
	WP::$posts[] = array( $url, $args );
	$code        = array_shift( WP::$answers );
	return ( null === $code || 0 === $code ) ? new WP_Error( 'cURL error 7: Failed to connect' ) : array( 'response' => array( 'code' => $code ) );
}
function wp_remote_retrieve_response_code( $response ) {
	return $response['response']['code'];
}
function as_enqueue_async_action( $hook, $args, $group ) {
	WP::$scheduled[] = array( time(), $hook, $args, $group );
}
function as_schedule_single_action( $timestamp, $hook, $args, $group ) {
	WP::$scheduled[] = array( $timestamp, $hook, $args, $group );
}
function apply_filters( $hook, $value ) {
	return array_key_exists( $hook, WP::$filters ) ? WP::$filters[ $hook ] : $value;
}
function determine_locale() {
	return WP::$locale;
}
/** A logger recording lines. */
final class Fake_Logger {
	/** @param string $message The line. */
	public function warning( $message ) {
		WP::$logs[] = $message;
	}
}
function get_current_user_id() {
	return WP::$user_id;
}
function wp_salt( $scheme = 'auth' ) {
	return 'salt';
}
function wc_get_logger() {
	return new Fake_Logger();
}

/** WooCommerce's session: a key-value store. */
final class Fake_Session {
	/** @var array */
	public $data = array();
	/** @param string $key Key. */
	public function get( $key, $default = null ) {
		return array_key_exists( $key, $this->data ) ? $this->data[ $key ] : $default;
	}
	/** @param string $key Key. @param mixed $value Value. */
	public function set( $key, $value ) {
		$this->data[ $key ] = $value;
	}
	/** @var bool Whether the browser has a session cookie yet. */
	public $started = true;
	/** @return bool */
	public function has_session() {
		return $this->started;
	}
	/** @return string WooCommerce's customer id of the session (a guest's random one). */
	public function get_customer_id() {
		return 't_guest42';
	}
}

/** WooCommerce's customer of this session. */
final class Fake_Customer {
	/** @var string */
	public $billing_email = '';
	/** @return string */
	public function get_billing_email() {
		return $this->billing_email;
	}
	/** @param string $email Email. */
	public function set_billing_email( $email ) {
		$this->billing_email = $email;
	}
}

/** WooCommerce's cart, with the coupons of the store. */
final class Fake_Cart {
	/** @var array */
	public $items = array();
	/** @var array Applied codes. */
	public $applied = array();
	/** @var array Notices shown to the shopper. */
	public $notices = array();
	/** @var array Store coupons: code => email restrictions. */
	public $coupons = array();
	/** @return bool */
	public function is_empty() {
		return array() === $this->items;
	}
	/** Empty it. */
	public function empty_cart() {
		$this->items = array();
	}
	/** @param int $product Product. @param int $qty Quantity. */
	public function add_to_cart( $product, $qty = 1, $variation = 0, $attributes = array() ) {
		$this->items[] = array( 'product_id' => $product, 'variation_id' => $variation, 'quantity' => $qty, 'variation' => $attributes );
		return 'key' . count( $this->items );
	}
	/** @return array */
	public function get_cart() {
		return $this->items;
	}
	/** @param string $code Code. */
	public function has_discount( $code ) {
		return in_array( $code, $this->applied, true );
	}
	/**
	 * Apply a code; an email-restricted one needs the customer's billing email (WooCommerce 8.6+).
	 *
	 * @param string $code Code.
	 * @return bool
	 */
	public function apply_coupon( $code ) {
		$allowed = isset( $this->coupons[ $code ] ) ? $this->coupons[ $code ] : null;
		$email   = strtolower( WC()->customer->get_billing_email() );
		if ( null === $allowed ) {
			$this->notices[] = "Coupon \"$code\" does not exist!";
			return false;
		}
		if ( array() !== $allowed && ! in_array( $email, $allowed, true ) ) {
			$this->notices[] = '' === $email
				? "Please enter a valid email at checkout to use coupon code \"$code\"."
				: "Please enter a valid email to use coupon code \"$code\".";
			return false;
		}
		$this->applied[] = $code;
		return true;
	}
}

/** WC() of the fake. */
final class Fake_WC {
	/** @var Fake_Cart */
	public $cart;
	/** @var Fake_Session */
	public $session;
	/** @var Fake_Customer */
	public $customer;
	/** A fresh browser. */
	public function __construct() {
		$this->cart     = new Fake_Cart();
		$this->session  = new Fake_Session();
		$this->customer = new Fake_Customer();
	}
}

/** @var Fake_WC|null The current browser's WooCommerce. */
$GLOBALS['relance_test_wc'] = null;
function WC() {
	return $GLOBALS['relance_test_wc'];
}
