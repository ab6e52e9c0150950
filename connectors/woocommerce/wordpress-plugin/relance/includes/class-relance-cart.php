<?php
/**
 * Cart capture (cart hooks, checkout email), order tagging, and restoring carts from recovery links.
 *
 * @package Relance
 */

defined( 'ABSPATH' ) || exit;

/**
 * The WooCommerce side: reads the cart in the shopper's request and hands events to Relance_Sender.
 */
final class Relance_Cart {

	const TOKEN_KEY       = 'relance_cart_token';
	const EMAIL_KEY       = 'relance_email';
	const CONSENT_KEY     = 'relance_consent';
	const SENT_EMAIL_KEY  = 'relance_sent_email';
	const ORDERED_KEY     = 'relance_ordered_token';
	const SNAPSHOT_PREFIX = 'relance_cart_';
	const SNAPSHOT_TTL    = 2592000;
	const AJAX_ACTION     = 'relance_email';
	const BLOCK_FIELD     = 'relance/marketing-consent';

	/**
	 * Whether the cart changed in this request.
	 *
	 * @var bool
	 */
	private static $dirty = false;

	/**
	 * True while a recovery link rebuilds the cart (its own changes are not events).
	 *
	 * @var bool
	 */
	private static $restoring = false;

	/**
	 * Recovery links work whether or not events are configured.
	 */
	public static function register_restore() {
		add_action( 'wp_loaded', array( __CLASS__, 'maybe_restore' ), 30 );
	}

	/**
	 * Hook the capture of carts and checkout emails.
	 */
	public static function register_capture() {
		$changes = array( 'woocommerce_add_to_cart', 'woocommerce_cart_item_removed', 'woocommerce_after_cart_item_quantity_update', 'woocommerce_cart_item_restored', 'woocommerce_cart_emptied' );
		foreach ( $changes as $hook ) {
			add_action( $hook, array( __CLASS__, 'changed' ), 200, 0 );
		}
		add_action( 'shutdown', array( __CLASS__, 'flush' ), 1, 0 ); // Before WooCommerce saves the session (20).
		add_action( 'wp_ajax_' . self::AJAX_ACTION, array( __CLASS__, 'ajax_email' ) );
		add_action( 'wp_ajax_nopriv_' . self::AJAX_ACTION, array( __CLASS__, 'ajax_email' ) );
		add_action( 'wp_enqueue_scripts', array( __CLASS__, 'enqueue_script' ) );
		add_action( 'woocommerce_after_checkout_billing_form', array( __CLASS__, 'consent_checkbox' ) );
		add_action( 'woocommerce_init', array( __CLASS__, 'register_block_consent_field' ) );
		add_action( 'woocommerce_store_api_cart_update_customer_from_request', array( __CLASS__, 'block_customer' ), 20, 2 );
		add_action( 'woocommerce_store_api_checkout_update_order_from_request', array( __CLASS__, 'block_order' ), 20, 2 );
		add_action( 'woocommerce_checkout_create_order', array( __CLASS__, 'tag_order' ), 10, 1 );
		add_action( 'woocommerce_store_api_checkout_update_order_meta', array( __CLASS__, 'tag_order' ), 10, 1 );
		add_action( 'woocommerce_checkout_order_processed', array( __CLASS__, 'ordered' ), 10, 0 );
		add_action( 'woocommerce_store_api_checkout_order_processed', array( __CLASS__, 'ordered' ), 10, 0 );
	}

	/**
	 * A cart hook fired: send once, at the end of the request, with the final state.
	 */
	public static function changed() {
		if ( ! self::$restoring ) {
			self::$dirty = true;
		}
	}

	/**
	 * End of the request: send the cart (debounced), or that it was emptied.
	 */
	public static function flush() {
		if ( ! self::$dirty || self::$restoring ) {
			return;
		}
		self::$dirty = false;
		try {
			if ( ! self::ready() ) {
				return;
			}
			if ( WC()->cart->is_empty() ) {
				self::emptied();
				return;
			}
			$payload = self::payload( 'cart.updated' );
			self::remember( $payload['cart_token'] );
			Relance_Sender::debounced( $payload );
		} catch ( \Throwable $e ) {
			Relance_Sender::log( $e->getMessage() );
		}
	}

	/**
	 * The cart is empty: say so (unless an order took it), and start a new cart identity.
	 */
	private static function emptied() {
		$session = WC()->session;
		$token   = $session->get( self::TOKEN_KEY );
		if ( ! Relance_Core::is_valid_token( $token ) ) {
			return;
		}
		if ( $session->get( self::ORDERED_KEY ) !== $token ) {
			Relance_Sender::send( self::payload( 'cart.emptied' ) );
		}
		delete_transient( self::SNAPSHOT_PREFIX . $token );
		$session->set( self::TOKEN_KEY, null );
		$session->set( self::ORDERED_KEY, null );
		$session->set( self::SENT_EMAIL_KEY, null );
	}

	/**
	 * Admin-ajax: the classic checkout's email field (relance-checkout.js).
	 */
	public static function ajax_email() {
		if ( false === check_ajax_referer( self::AJAX_ACTION, 'nonce', false ) ) {
			wp_send_json_error( null, 403 );
		}
		$email   = isset( $_POST['email'] ) ? sanitize_email( wp_unslash( $_POST['email'] ) ) : '';
		$consent = ! empty( $_POST['consent'] );
		wp_send_json_success( array( 'sent' => self::capture_email( $email, $consent ) ) );
	}

	/**
	 * Block checkout: the Store API pushed the customer's address and email.
	 *
	 * @param WC_Customer     $customer The customer.
	 * @param WP_REST_Request $request  The Store API request.
	 */
	public static function block_customer( $customer, $request ) {
		if ( is_object( $customer ) && method_exists( $customer, 'get_billing_email' ) ) {
			self::capture_email( $customer->get_billing_email(), self::block_consent( $request ) );
		}
	}

	/**
	 * Block checkout: the Store API updated the draft order (contact fields, consent checkbox).
	 *
	 * @param WC_Order        $order   The draft order.
	 * @param WP_REST_Request $request The Store API request.
	 */
	public static function block_order( $order, $request ) {
		if ( is_object( $order ) && method_exists( $order, 'get_billing_email' ) ) {
			self::capture_email( $order->get_billing_email(), self::block_consent( $request ) );
		}
	}

	/**
	 * Send a checkout.email event when the email may be sent and is new for this cart.
	 *
	 * @param string $email  What the shopper typed.
	 * @param bool   $ticked Whether they ticked the marketing checkbox.
	 * @return bool Whether an event was sent.
	 */
	private static function capture_email( $email, $ticked ) {
		try {
			$email = Relance_Core::clean_email( $email );
			if ( null === $email || ! self::ready() || WC()->cart->is_empty() ) {
				return false;
			}
			/** Filters whether the shopper agreed to marketing emails (for consent plugins). */
			$ticked = true === apply_filters( 'relance_shopper_consents', (bool) $ticked, $email );
			if ( ! Relance_Core::may_send_email( Relance_Settings::consent_required(), $ticked ) ) {
				return false;
			}
			$session     = WC()->session;
			$fingerprint = hash( 'sha256', strtolower( $email ) . '|' . (int) $ticked );
			if ( $session->get( self::SENT_EMAIL_KEY ) === $fingerprint ) {
				return false;
			}
			$session->set( self::EMAIL_KEY, $email );
			$session->set( self::CONSENT_KEY, $ticked );
			$session->set( self::SENT_EMAIL_KEY, $fingerprint );
			$payload = self::payload( 'checkout.email' );
			self::remember( $payload['cart_token'] );
			Relance_Sender::send( $payload );
			if ( true === $ticked ) { // The checkout's marketing box ticked: a newsletter sign-up too.
				Relance_Browse::signup( $email, true, 'checkout' );
			}
			return true;
		} catch ( \Throwable $e ) {
			Relance_Sender::log( $e->getMessage() );
			return false;
		}
	}

	/**
	 * The block checkout's consent checkbox, else what the shopper answered before.
	 *
	 * @param WP_REST_Request $request The Store API request.
	 * @return bool
	 */
	private static function block_consent( $request ) {
		$fields = is_object( $request ) && method_exists( $request, 'get_param' ) ? $request->get_param( 'additional_fields' ) : null;
		if ( is_array( $fields ) && array_key_exists( self::BLOCK_FIELD, $fields ) ) {
			return ! empty( $fields[ self::BLOCK_FIELD ] );
		}
		return self::ready() && true === WC()->session->get( self::CONSENT_KEY );
	}

	/**
	 * The event body for the current cart.
	 *
	 * @param string $event The event name.
	 * @return array
	 */
	private static function payload( $event ) {
		$session  = WC()->session;
		$token    = self::token();
		$lines    = array();
		$subtotal = 0.0;
		foreach ( WC()->cart->get_cart() as $item ) {
			$product = isset( $item['data'] ) ? $item['data'] : null;
			if ( ! $product instanceof WC_Product ) {
				continue;
			}
			$price     = (float) wc_get_price_excluding_tax( $product );
			$subtotal += $price * (int) $item['quantity'];
			$lines[]   = array(
				'product_id'   => $item['product_id'],
				'variation_id' => $item['variation_id'],
				'title'        => $product->get_name(),
				'quantity'     => $item['quantity'],
				'price'        => $price,
			);
		}
		$cart     = array(
			'cart_token'   => $token,
			'session_key'  => Relance_Core::session_key( $session->get_customer_id(), wp_salt( 'auth' ) ),
			'items'        => $lines,
			'subtotal'     => $subtotal,
			'currency'     => get_woocommerce_currency(),
			'recovery_url' => Relance_Core::recovery_url( wc_get_cart_url(), $token ),
			'decimals'     => wc_get_price_decimals(),
		);
		$optional = array(
			'customer_id'       => get_current_user_id(),
			'order_id'          => (int) $session->get( 'store_api_draft_order', 0 ),
			'email'             => $session->get( self::EMAIL_KEY ),
			'marketing_consent' => true === $session->get( self::CONSENT_KEY ),
			'locale'            => self::shopper_locale(),
		);
		return Relance_Core::build_payload( $event, $cart, time(), $optional );
	}

	/**
	 * The language the shopper is browsing in: WPML's or Polylang's current language when either runs,
	 * else WordPress's locale for this request.
	 *
	 * @return string|null
	 */
	public static function shopper_locale() {
		$wpml      = apply_filters( 'wpml_current_language', null );
		$polylang  = function_exists( 'pll_current_language' ) ? pll_current_language( 'locale' ) : null;
		$wordpress = function_exists( 'determine_locale' ) ? determine_locale() : ( function_exists( 'get_locale' ) ? get_locale() : null );
		return Relance_Core::pick_locale( $wpml, $polylang, $wordpress );
	}

	/**
	 * This session's cart token, made on first use.
	 *
	 * @return string
	 */
	private static function token() {
		$token = WC()->session->get( self::TOKEN_KEY );
		if ( ! Relance_Core::is_valid_token( $token ) ) {
			$token = Relance_Core::new_token();
			WC()->session->set( self::TOKEN_KEY, $token );
		}
		return $token;
	}

	/**
	 * Keep what a recovery link needs to rebuild this cart.
	 *
	 * @param string $token The cart token.
	 */
	private static function remember( $token ) {
		$items = array();
		foreach ( WC()->cart->get_cart() as $item ) {
			$items[] = array(
				'product_id'   => (int) $item['product_id'],
				'variation_id' => (int) $item['variation_id'],
				'quantity'     => (int) $item['quantity'],
				'variation'    => isset( $item['variation'] ) && is_array( $item['variation'] ) ? $item['variation'] : array(),
			);
		}
		// The email too: WooCommerce (8.6+) checks a code's email restriction when it is applied, and a cart
		// restored in another browser has no billing email yet.
		$email = Relance_Core::clean_email( WC()->session->get( self::EMAIL_KEY ) );
		set_transient( self::SNAPSHOT_PREFIX . $token, array( 'items' => $items, 'email' => $email ), self::SNAPSHOT_TTL );
	}

	/**
	 * Write the cart token and its restore link on the order (classic checkout, and block checkout's draft
	 * order), and keep the cart so that link can rebuild it: an unpaid order's own payment page cannot take
	 * a coupon, so Relance sends shoppers back to the cart instead.
	 *
	 * @param WC_Order $order The order being created or updated.
	 */
	public static function tag_order( $order ) {
		try {
			if ( is_object( $order ) && method_exists( $order, 'update_meta_data' ) && self::ready() ) {
				$token = self::token();
				$order->update_meta_data( Relance_Core::ORDER_META, $token );
				$order->update_meta_data( Relance_Core::ORDER_URL_META, Relance_Core::recovery_url( wc_get_cart_url(), $token ) );
				$locale = self::shopper_locale();
				if ( null !== $locale ) {
					$order->update_meta_data( Relance_Core::ORDER_LOCALE, $locale );
				}
				if ( ! WC()->cart->is_empty() ) {
					self::remember( $token );
				}
			}
		} catch ( \Throwable $e ) {
			Relance_Sender::log( $e->getMessage() );
		}
	}

	/**
	 * The order was placed: emptying this cart next is not an abandonment.
	 */
	public static function ordered() {
		if ( self::ready() ) {
			WC()->session->set( self::ORDERED_KEY, WC()->session->get( self::TOKEN_KEY ) );
		}
	}

	/**
	 * Classic checkout: the marketing checkbox, when the merchant asks for consent.
	 */
	public static function consent_checkbox() {
		if ( ! Relance_Settings::consent_required() ) {
			return;
		}
		$checked = self::ready() && true === WC()->session->get( self::CONSENT_KEY );
		printf(
			'<p class="form-row relance-consent"><label class="woocommerce-form__label woocommerce-form__label-for-checkbox checkbox"><input type="checkbox" class="woocommerce-form__input woocommerce-form__input-checkbox input-checkbox" id="relance_consent" name="relance_consent" value="1"%s> <span>%s</span></label></p>',
			checked( $checked, true, false ),
			esc_html( Relance_Settings::consent_label() )
		);
	}

	/**
	 * Block checkout: the same checkbox as an additional checkout field (WooCommerce 8.9+).
	 */
	public static function register_block_consent_field() {
		if ( ! function_exists( 'woocommerce_register_additional_checkout_field' ) || ! Relance_Settings::consent_required() ) {
			return;
		}
		try {
			woocommerce_register_additional_checkout_field(
				array(
					'id'       => self::BLOCK_FIELD,
					'label'    => Relance_Settings::consent_label(),
					'location' => 'contact',
					'type'     => 'checkbox',
				)
			);
		} catch ( \Throwable $e ) {
			Relance_Sender::log( $e->getMessage() );
		}
	}

	/**
	 * The classic checkout's email capture script.
	 */
	public static function enqueue_script() {
		if ( ! function_exists( 'is_checkout' ) || ! is_checkout() || is_order_received_page() ) {
			return;
		}
		wp_enqueue_script( 'relance-checkout', plugins_url( 'assets/relance-checkout.js', RELANCE_FILE ), array(), RELANCE_VERSION, true );
		$config = array(
			'ajaxUrl'        => admin_url( 'admin-ajax.php' ),
			'action'         => self::AJAX_ACTION,
			'nonce'          => wp_create_nonce( self::AJAX_ACTION ),
			'requireConsent' => Relance_Settings::consent_required(),
			'debounceMs'     => 600,
		);
		wp_add_inline_script( 'relance-checkout', 'var relanceCheckout = ' . wp_json_encode( $config ) . ';', 'before' );
	}

	/**
	 * A recovery link (?relance_restore=<token>&coupon=<code>): rebuild the cart, apply the code, redirect.
	 * A link with only ?coupon=<code> (Relance's fallback when it knows no cart) applies the code in place.
	 */
	public static function maybe_restore() {
		// phpcs:disable WordPress.Security.NonceVerification.Recommended -- the unguessable token is the credential.
		$restore = isset( $_GET[ Relance_Core::RESTORE_PARAM ] ) ? sanitize_key( wp_unslash( $_GET[ Relance_Core::RESTORE_PARAM ] ) ) : '';
		$coupon  = isset( $_GET[ Relance_Core::COUPON_PARAM ] ) ? wc_format_coupon_code( wp_unslash( $_GET[ Relance_Core::COUPON_PARAM ] ) ) : '';
		// phpcs:enable
		if ( is_admin() || wp_doing_ajax() || ( '' === $restore && '' === $coupon ) || ! self::ready() ) {
			return;
		}
		self::open_link( $restore, $coupon );
		if ( '' !== $restore ) {
			wp_safe_redirect( remove_query_arg( array( Relance_Core::RESTORE_PARAM, Relance_Core::COUPON_PARAM ) ) );
			exit;
		}
	}

	/**
	 * Rebuild the cart a recovery link names and apply its code.
	 *
	 * @param string $restore The cart token ('' for none).
	 * @param string $coupon  The formatted coupon code ('' for none).
	 */
	public static function open_link( $restore, $coupon ) {
		try {
			if ( Relance_Core::is_valid_token( $restore ) ) {
				self::restore( $restore );
			}
			if ( '' !== $coupon && ! WC()->cart->has_discount( $coupon ) ) {
				WC()->cart->apply_coupon( $coupon );
			}
		} catch ( \Throwable $e ) {
			Relance_Sender::log( $e->getMessage() );
		}
	}

	/**
	 * Replace the cart with the snapshot kept for this token (nothing to do if it is already the cart).
	 *
	 * @param string $token The cart token.
	 */
	private static function restore( $token ) {
		$snapshot = get_transient( self::SNAPSHOT_PREFIX . $token );
		$session  = WC()->session;
		if ( ! is_array( $snapshot ) || empty( $snapshot['items'] ) ) {
			return;
		}
		self::carry_email( isset( $snapshot['email'] ) ? $snapshot['email'] : null );
		if ( $session->get( self::TOKEN_KEY ) === $token && ! WC()->cart->is_empty() ) {
			return;
		}
		if ( ! $session->has_session() ) {
			$session->set_customer_session_cookie( true );
		}
		self::$restoring = true;
		try {
			WC()->cart->empty_cart();
			foreach ( $snapshot['items'] as $line ) {
				WC()->cart->add_to_cart( (int) $line['product_id'], max( 1, (int) $line['quantity'] ), (int) $line['variation_id'], (array) $line['variation'] );
			}
		} finally {
			self::$restoring = false;
		}
		$session->set( self::TOKEN_KEY, $token ); // The order this cart becomes joins the same cart at Relance.
		$session->set( self::ORDERED_KEY, null );
		self::$dirty = true;
	}

	/**
	 * Give a guest's session the email the cart was left with, so an email-restricted code applies (the
	 * link was mailed to that address). An email the shopper already gave is kept.
	 *
	 * @param mixed $email The snapshot's email.
	 */
	private static function carry_email( $email ) {
		$email    = Relance_Core::clean_email( $email );
		$customer = WC()->customer;
		if ( null === $email || ! is_object( $customer ) || '' !== (string) $customer->get_billing_email() ) {
			return;
		}
		$customer->set_billing_email( $email );
		WC()->session->set( self::EMAIL_KEY, $email ); // The next events carry it, as if typed at checkout.
	}

	/**
	 * Whether WooCommerce's cart and session exist in this request.
	 *
	 * @return bool
	 */
	private static function ready() {
		return function_exists( 'WC' ) && null !== WC()->cart && null !== WC()->session;
	}
}
