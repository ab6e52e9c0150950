<?php
/**
 * Sending signed events to the bridge without ever slowing down or breaking the shopper's page.
 *
 * @package Relance
 */

defined( 'ABSPATH' ) || exit;

/**
 * Asynchronous delivery (Action Scheduler when present, else a non-blocking request) and debouncing.
 */
final class Relance_Sender {

	const DELIVER_HOOK  = 'relance_deliver';
	const TRAILING_HOOK = 'relance_send_latest';
	const GROUP         = 'relance';
	const DEBOUNCE      = 30;
	const OUTBOX_TTL    = 86400;

	/**
	 * Hook the background deliveries.
	 */
	public static function register() {
		add_action( self::DELIVER_HOOK, array( __CLASS__, 'deliver' ), 10, 2 );
		add_action( self::TRAILING_HOOK, array( __CLASS__, 'send_latest' ), 10, 1 );
	}

	/**
	 * Send a cart state now, or once the session's debounce window closes (with the latest state).
	 *
	 * @param array $payload From Relance_Core::build_payload().
	 */
	public static function debounced( array $payload ) {
		$session = $payload['session_key'];
		$last    = get_transient( 'relance_sent_' . $session );
		$now     = time();
		if ( Relance_Core::send_now( false === $last ? null : (int) $last, $now, self::DEBOUNCE ) ) {
			set_transient( 'relance_sent_' . $session, $now, self::DEBOUNCE );
			delete_transient( 'relance_latest_' . $session );
			self::send( $payload );
			return;
		}
		set_transient( 'relance_latest_' . $session, $payload, self::OUTBOX_TTL );
		$args = array( $session );
		if ( false === wp_next_scheduled( self::TRAILING_HOOK, $args ) ) {
			wp_schedule_single_event( (int) $last + self::DEBOUNCE, self::TRAILING_HOOK, $args );
		}
	}

	/**
	 * Background: send the latest state a debounce window held back.
	 *
	 * @param string $session The session key.
	 */
	public static function send_latest( $session ) {
		$payload = get_transient( 'relance_latest_' . $session );
		delete_transient( 'relance_latest_' . $session );
		if ( is_array( $payload ) ) {
			set_transient( 'relance_sent_' . $session, time(), self::DEBOUNCE );
			self::send( $payload ); // Through the outbox: retried like any event.
		}
	}

	/**
	 * Send an event from the shopper's request: queued when Action Scheduler exists, else fire and forget.
	 *
	 * @param array $payload From Relance_Core::build_payload().
	 */
	public static function send( array $payload ) {
		try {
			$body = Relance_Core::encode( $payload );
			if ( function_exists( 'as_enqueue_async_action' ) ) {
				// Only a key goes into the action's arguments: they have a length limit.
				$key = substr( hash( 'sha256', $body ), 0, 32 );
				set_transient( 'relance_out_' . $key, $body, self::OUTBOX_TTL );
				as_enqueue_async_action( self::DELIVER_HOOK, array( $key ), self::GROUP );
				return;
			}
			self::post( $body, false );
		} catch ( \Throwable $e ) {
			self::log( $e->getMessage() );
		}
	}

	/**
	 * The plugin is being deactivated: tell Relance now (no background job will run for it any more), so it
	 * stops making codes and planning offers for this store and removes its webhooks. Reconnecting later goes
	 * through Relance's install link.
	 */
	public static function farewell() {
		try {
			self::post( Relance_Core::encode( Relance_Core::farewell_payload( time() ) ), true );
		} catch ( \Throwable $e ) {
			self::log( $e->getMessage() );
		}
	}

	/**
	 * Background: deliver a queued body; while Relance is unreachable or failing, try again later through
	 * Action Scheduler (Relance_Core::retry_delay: a bounded number of tries over about four hours).
	 *
	 * @param string $key     The outbox key.
	 * @param int    $attempt How many tries came before this one.
	 */
	public static function deliver( $key, $attempt = 0 ) {
		$body = get_transient( 'relance_out_' . $key );
		if ( ! is_string( $body ) ) {
			return;
		}
		$code  = self::post( $body, true );
		$delay = Relance_Core::retryable( $code ) ? Relance_Core::retry_delay( (int) $attempt ) : null;
		if ( null === $delay || ! function_exists( 'as_schedule_single_action' ) ) {
			delete_transient( 'relance_out_' . $key );
			if ( Relance_Core::retryable( $code ) ) {
				self::log( 'an event was dropped after ' . ( (int) $attempt + 1 ) . ' tries (last: HTTP ' . $code . ')' );
			}
			return;
		}
		set_transient( 'relance_out_' . $key, $body, self::OUTBOX_TTL );
		as_schedule_single_action( time() + $delay, self::DELIVER_HOOK, array( $key, (int) $attempt + 1 ), self::GROUP );
	}

	/**
	 * POST a body, signed at the moment of sending (the bridge refuses timestamps older than 5 minutes, so a
	 * retry signs again).
	 *
	 * @param string $body     The JSON body.
	 * @param bool   $blocking Wait for the answer (background) or not (shopper's request).
	 * @return int The HTTP status (0: no answer, or not waited for); 204 when not configured (nothing to do).
	 */
	private static function post( $body, $blocking ) {
		if ( ! Relance_Settings::configured() ) {
			return 204;
		}
		$response = wp_remote_post(
			Relance_Core::endpoint( Relance_Settings::bridge_url(), Relance_Settings::shop_key() ),
			array(
				'body'        => $body,
				'headers'     => Relance_Core::headers( $body, Relance_Settings::secret(), time() ),
				'timeout'     => $blocking ? 5 : 2,
				'blocking'    => $blocking,
				'redirection' => 0,
				'user-agent'  => 'Relance/' . RELANCE_VERSION . '; ' . home_url( '/' ),
			)
		);
		if ( ! $blocking ) {
			return 0;
		}
		$code = is_wp_error( $response ) ? 0 : (int) wp_remote_retrieve_response_code( $response );
		if ( $code < 200 || $code >= 300 ) {
			self::log( 'the bridge did not accept an event (HTTP ' . $code . ')' );
		}
		return $code;
	}

	/**
	 * Log to WooCommerce → Status → Logs (source "relance"); never secrets or emails.
	 *
	 * @param string $message What went wrong.
	 */
	public static function log( $message ) {
		if ( function_exists( 'wc_get_logger' ) ) {
			wc_get_logger()->warning( $message, array( 'source' => 'relance' ) );
		}
	}
}
