/**
 * Relance: sends the classic checkout's email to the store (admin-ajax) as soon as it is typed.
 * Debounced, validated, sent once per value; errors are ignored so checkout is never affected.
 */
(function () {
	'use strict';
	var cfg = window.relanceCheckout;
	if (!cfg || !window.XMLHttpRequest) {
		return;
	}
	var EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/;
	var timer = null;
	var lastSent = '';

	function consent() {
		var box = document.getElementById('relance_consent');
		return !!(box && box.checked);
	}

	function send() {
		var field = document.getElementById('billing_email');
		var email = field ? String(field.value || '').trim() : '';
		if (!EMAIL.test(email)) {
			return;
		}
		var ticked = consent();
		if (cfg.requireConsent && !ticked) {
			return;
		}
		var key = email.toLowerCase() + '|' + (ticked ? '1' : '0');
		if (key === lastSent) {
			return;
		}
		lastSent = key;
		var body = 'action=' + encodeURIComponent(cfg.action) + '&nonce=' + encodeURIComponent(cfg.nonce) +
			'&email=' + encodeURIComponent(email) + '&consent=' + (ticked ? '1' : '0');
		try {
			var xhr = new XMLHttpRequest();
			xhr.open('POST', cfg.ajaxUrl, true);
			xhr.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded; charset=UTF-8');
			xhr.send(body);
		} catch (e) {
			lastSent = '';
		}
	}

	function schedule(event) {
		var id = event.target && event.target.id;
		if (id === 'billing_email' || id === 'relance_consent') {
			window.clearTimeout(timer);
			timer = window.setTimeout(send, cfg.debounceMs || 600);
		}
	}

	document.addEventListener('input', schedule, true);
	document.addEventListener('change', schedule, true);
})();
