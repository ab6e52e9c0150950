<?php
/**
 * Removes the plugin's settings when it is deleted from WordPress.
 *
 * @package Relance
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

foreach ( array( 'relance_bridge_url', 'relance_shop_key', 'relance_secret', 'relance_require_consent', 'relance_consent_label' ) as $relance_option ) {
	delete_option( $relance_option );
}
