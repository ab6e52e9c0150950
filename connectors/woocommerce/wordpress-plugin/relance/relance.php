<?php
/**
 * Plugin Name:          Relance for WooCommerce
 * Plugin URI:           https://github.com/relance/relance
 * Description:          Sends signed cart and checkout-email events to your Relance bridge (lead scoring and abandoned-cart recovery) and restores carts from recovery links.
 * Version:              0.1.0
 * Requires at least:    6.0
 * Requires PHP:         7.4
 * Requires Plugins:     woocommerce
 * WC requires at least: 8.0
 * Author:               Relance contributors
 * License:              GPL-2.0-or-later
 * License URI:          https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:          relance
 *
 * @package Relance
 */

/*
Copyright (C) Relance contributors

This program is free software; you can redistribute it and/or modify it under the terms of the GNU
General Public License as published by the Free Software Foundation; either version 2 of the License,
or (at your option) any later version.

This program is distributed in the hope that it will be useful, but WITHOUT ANY WARRANTY; without even
the implied warranty of MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE. See the GNU General Public
License for more details.
*/

defined( 'ABSPATH' ) || exit;

define( 'RELANCE_VERSION', '0.1.0' );
define( 'RELANCE_FILE', __FILE__ );

require_once __DIR__ . '/includes/class-relance-core.php';
require_once __DIR__ . '/includes/class-relance-settings.php';
require_once __DIR__ . '/includes/class-relance-sender.php';
require_once __DIR__ . '/includes/class-relance-cart.php';
require_once __DIR__ . '/includes/class-relance-browse.php';

add_action(
	'before_woocommerce_init',
	function () {
		if ( class_exists( '\Automattic\WooCommerce\Utilities\FeaturesUtil' ) ) {
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'custom_order_tables', RELANCE_FILE, true );
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'cart_checkout_blocks', RELANCE_FILE, true );
		}
	}
);

add_action( 'plugins_loaded', 'relance_boot' );
register_deactivation_hook( __FILE__, array( 'Relance_Sender', 'farewell' ) );

/**
 * Wire the plugin once WooCommerce is loaded; without the three settings, no event is sent.
 */
function relance_boot() {
	Relance_Settings::register();
	if ( ! class_exists( 'WooCommerce' ) ) {
		return;
	}
	Relance_Sender::register();
	Relance_Cart::register_restore();
	if ( Relance_Settings::configured() ) {
		Relance_Cart::register_capture();
		Relance_Browse::register();
	}
}
