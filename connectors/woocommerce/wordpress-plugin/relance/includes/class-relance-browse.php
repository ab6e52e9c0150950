<?php
/**
 * Browsing and sign-ups: product views on single product pages, and newsletter sign-ups the visitor
 * consented to, sent to Relance like the cart events (signed, in the background).
 *
 * @package Relance
 */

defined( 'ABSPATH' ) || exit;

/**
 * Product views and newsletter sign-ups.
 */
final class Relance_Browse {

	const VIEWED_KEY = 'relance_viewed';

	/**
	 * Hook the product page and the sign-up sources.
	 */
	public static function register() {
		add_action( 'template_redirect', array( __CLASS__, 'product_page' ), 20, 0 );
		// Any form or theme can report a sign-up: do_action( 'relance_newsletter_signup', $email, $consented ).
		add_action( 'relance_newsletter_signup', array( __CLASS__, 'signup' ), 10, 2 );
		// FluentCRM: a contact whose status became "subscribed" (a form with consent, or a confirmed opt-in).
		add_action( 'fluentcrm_subscriber_status_to_subscribed', array( __CLASS__, 'fluentcrm_subscribed' ), 10, 1 );
	}

	/**
	 * A single product page is being shown: report the view.
	 */
	public static function product_page() {
		if ( function_exists( 'is_product' ) && is_product() ) {
			self::viewed( get_queried_object_id() );
		}
	}

	/**
	 * Report a product view, once a product a day for this session. A guest without a WooCommerce session
	 * yet is not tracked: the plugin sets no cookie of its own.
	 *
	 * @param int $product_id The product shown.
	 * @return bool Whether an event was sent.
	 */
	public static function viewed( $product_id ) {
		try {
			$wc = function_exists( 'WC' ) ? WC() : null;
			if ( null === $wc || null === $wc->session || ! $wc->session->has_session() ) {
				return false;
			}
			$now            = time();
			list( $send, $seen ) = Relance_Core::note_view( (array) $wc->session->get( self::VIEWED_KEY, array() ), $product_id, $now );
			if ( ! $send ) {
				return false;
			}
			$payload = Relance_Core::view_payload( $product_id, self::session_key(), $now, get_current_user_id() );
			if ( null === $payload ) {
				return false;
			}
			$wc->session->set( self::VIEWED_KEY, $seen );
			Relance_Sender::send( $payload );
			return true;
		} catch ( \Throwable $e ) {
			Relance_Sender::log( $e->getMessage() );
			return false;
		}
	}

	/**
	 * Report a newsletter sign-up; nothing is sent unless the visitor consented.
	 *
	 * @param string $email     The address signed up.
	 * @param bool   $consented The visitor agreed to marketing emails.
	 * @param string $source    Where: checkout, fluentcrm, form.
	 * @return bool Whether an event was sent.
	 */
	public static function signup( $email, $consented = false, $source = 'form' ) {
		try {
			$wc      = function_exists( 'WC' ) ? WC() : null;
			$session = null !== $wc && null !== $wc->session && $wc->session->has_session() ? self::session_key() : '';
			$payload = Relance_Core::signup_payload(
				$email,
				true === $consented,
				$session,
				time(),
				array(
					'customer_id' => get_current_user_id(),
					'source'      => $source,
					'locale'      => Relance_Cart::shopper_locale(),
				)
			);
			if ( null === $payload ) {
				return false;
			}
			Relance_Sender::send( $payload );
			return true;
		} catch ( \Throwable $e ) {
			Relance_Sender::log( $e->getMessage() );
			return false;
		}
	}

	/**
	 * FluentCRM: a contact became "subscribed".
	 *
	 * @param object $subscriber FluentCRM's subscriber model (its email property).
	 */
	public static function fluentcrm_subscribed( $subscriber ) {
		if ( is_object( $subscriber ) && isset( $subscriber->email ) ) {
			self::signup( $subscriber->email, true, 'fluentcrm' );
		}
	}

	/**
	 * The session identity the cart events carry too (a digest, never WooCommerce's id itself).
	 *
	 * @return string
	 */
	private static function session_key() {
		return Relance_Core::session_key( WC()->session->get_customer_id(), wp_salt( 'auth' ) );
	}
}
