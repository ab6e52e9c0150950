<?php
/**
 * Settings → Relance: the bridge URL, shop key and signing secret shown by Relance's install flow.
 *
 * @package Relance
 */

defined( 'ABSPATH' ) || exit;

/**
 * The settings page and the options behind it (stored without autoload).
 */
final class Relance_Settings {

	const PAGE             = 'relance';
	const BRIDGE_URL       = 'relance_bridge_url';
	const SHOP_KEY         = 'relance_shop_key';
	const SECRET           = 'relance_secret';
	const REQUIRE_CONSENT  = 'relance_require_consent';
	const CONSENT_LABEL    = 'relance_consent_label';
	const SAVE_ACTION      = 'relance_save_settings';

	/**
	 * Hook the page into the admin menu.
	 */
	public static function register() {
		add_action( 'admin_menu', array( __CLASS__, 'add_page' ) );
		add_action( 'admin_post_' . self::SAVE_ACTION, array( __CLASS__, 'save' ) );
	}

	/**
	 * Whether the plugin knows where and how to send events.
	 *
	 * @return bool
	 */
	public static function configured() {
		return '' !== self::bridge_url() && '' !== self::shop_key() && '' !== self::secret();
	}

	/**
	 * The bridge's public URL.
	 *
	 * @return string
	 */
	public static function bridge_url() {
		return (string) get_option( self::BRIDGE_URL, '' );
	}

	/**
	 * This shop's key at the bridge.
	 *
	 * @return string
	 */
	public static function shop_key() {
		return (string) get_option( self::SHOP_KEY, '' );
	}

	/**
	 * The secret that signs events.
	 *
	 * @return string
	 */
	public static function secret() {
		return (string) get_option( self::SECRET, '' );
	}

	/**
	 * Whether the shopper must tick the marketing checkbox before their email is sent.
	 *
	 * @return bool
	 */
	public static function consent_required() {
		$required = 'no' !== get_option( self::REQUIRE_CONSENT, 'yes' );
		/**
		 * Filters whether an email is only sent with the shopper's consent.
		 *
		 * @param bool $required The merchant's setting.
		 */
		return (bool) apply_filters( 'relance_require_consent', $required );
	}

	/**
	 * The label of the marketing checkbox.
	 *
	 * @return string
	 */
	public static function consent_label() {
		$label = (string) get_option( self::CONSENT_LABEL, '' );
		return '' !== $label ? $label : __( 'Email me about my cart and special offers', 'relance' );
	}

	/**
	 * Add Settings → Relance.
	 */
	public static function add_page() {
		add_options_page( 'Relance', 'Relance', 'manage_options', self::PAGE, array( __CLASS__, 'render' ) );
	}

	/**
	 * Save the form (admin-post.php), with a nonce and the manage_options capability.
	 */
	public static function save() {
		if ( ! current_user_can( 'manage_options' ) ) {
			wp_die( esc_html__( 'You are not allowed to change these settings.', 'relance' ), 403 );
		}
		check_admin_referer( self::SAVE_ACTION );
		$url = isset( $_POST['bridge_url'] ) ? esc_url_raw( trim( wp_unslash( $_POST['bridge_url'] ) ), array( 'https', 'http' ) ) : '';
		update_option( self::BRIDGE_URL, untrailingslashit( $url ), false );
		$key = isset( $_POST['shop_key'] ) ? sanitize_text_field( wp_unslash( $_POST['shop_key'] ) ) : '';
		update_option( self::SHOP_KEY, $key, false );
		$secret = isset( $_POST['secret'] ) ? trim( (string) wp_unslash( $_POST['secret'] ) ) : ''; // phpcs:ignore WordPress.Security.ValidatedSanitizedInput.InputNotSanitized -- a secret is used as typed.
		if ( '' !== $secret ) {
			update_option( self::SECRET, $secret, false ); // An empty field keeps the saved secret.
		}
		update_option( self::REQUIRE_CONSENT, empty( $_POST['require_consent'] ) ? 'no' : 'yes', false );
		$label = isset( $_POST['consent_label'] ) ? sanitize_text_field( wp_unslash( $_POST['consent_label'] ) ) : '';
		update_option( self::CONSENT_LABEL, $label, false );
		wp_safe_redirect( add_query_arg( array( 'page' => self::PAGE, 'updated' => '1' ), admin_url( 'options-general.php' ) ) );
		exit;
	}

	/**
	 * The settings form.
	 */
	public static function render() {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		$has_secret = '' !== self::secret();
		?>
		<div class="wrap">
			<h1><?php esc_html_e( 'Relance', 'relance' ); ?></h1>
			<?php if ( isset( $_GET['updated'] ) ) : // phpcs:ignore WordPress.Security.NonceVerification.Recommended ?>
				<div class="notice notice-success"><p><?php esc_html_e( 'Settings saved.', 'relance' ); ?></p></div>
			<?php endif; ?>
			<p><?php esc_html_e( 'Paste the values Relance showed at the end of its installation. Cart events are only sent once all three are set.', 'relance' ); ?></p>
			<form method="post" action="<?php echo esc_url( admin_url( 'admin-post.php' ) ); ?>">
				<input type="hidden" name="action" value="<?php echo esc_attr( self::SAVE_ACTION ); ?>">
				<?php wp_nonce_field( self::SAVE_ACTION ); ?>
				<table class="form-table" role="presentation">
					<tr>
						<th scope="row"><label for="relance-bridge-url"><?php esc_html_e( 'Bridge URL', 'relance' ); ?></label></th>
						<td><input type="url" class="regular-text" id="relance-bridge-url" name="bridge_url" value="<?php echo esc_attr( self::bridge_url() ); ?>" placeholder="https://relance.example.com"></td>
					</tr>
					<tr>
						<th scope="row"><label for="relance-shop-key"><?php esc_html_e( 'Shop key', 'relance' ); ?></label></th>
						<td><input type="text" class="regular-text" id="relance-shop-key" name="shop_key" value="<?php echo esc_attr( self::shop_key() ); ?>"></td>
					</tr>
					<tr>
						<th scope="row"><label for="relance-secret"><?php esc_html_e( 'Signing secret', 'relance' ); ?></label></th>
						<td>
							<input type="password" class="regular-text" id="relance-secret" name="secret" value="" autocomplete="new-password">
							<p class="description"><?php echo $has_secret ? esc_html__( 'A secret is saved. Leave empty to keep it.', 'relance' ) : esc_html__( 'Not set yet.', 'relance' ); ?></p>
						</td>
					</tr>
					<tr>
						<th scope="row"><?php esc_html_e( 'Consent', 'relance' ); ?></th>
						<td>
							<label><input type="checkbox" name="require_consent" value="1" <?php checked( 'no' !== get_option( self::REQUIRE_CONSENT, 'yes' ) ); ?>>
							<?php esc_html_e( 'Only send a shopper\'s email to Relance when they tick the marketing checkbox at checkout', 'relance' ); ?></label>
							<p><input type="text" class="regular-text" name="consent_label" value="<?php echo esc_attr( self::consent_label() ); ?>" aria-label="<?php esc_attr_e( 'Checkbox label', 'relance' ); ?>"></p>
						</td>
					</tr>
				</table>
				<?php submit_button(); ?>
			</form>
		</div>
		<?php
	}
}
