<?php
/**
 * Loads the plugin's pure class outside WordPress.
 *
 * @package Relance
 */

define( 'RELANCE_TESTING', true );
require_once dirname( __DIR__, 2 ) . '/connectors/woocommerce/wordpress-plugin/relance/includes/class-relance-core.php';
