"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 03:57:26.654451
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bridge.db.types
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('nonces',
    sa.Column('value', sa.String(length=128), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('expires_at', bridge.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('value', name=op.f('pk_nonces'))
    )
    op.create_table('shops',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('shop_key', sa.String(length=64), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('api_key_hash', sa.String(length=64), nullable=False),
    sa.Column('access_token_enc', sa.Text(), nullable=True),
    sa.Column('refresh_token_enc', sa.Text(), nullable=True),
    sa.Column('token_expires_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('refresh_expires_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('consumer_key_enc', sa.Text(), nullable=True),
    sa.Column('consumer_secret_enc', sa.Text(), nullable=True),
    sa.Column('webhook_secret_enc', sa.Text(), nullable=True),
    sa.Column('api_version', sa.String(length=20), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('installed_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('uninstalled_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('settings', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shops')),
    sa.UniqueConstraint('api_key_hash', name=op.f('uq_shops_api_key_hash')),
    sa.UniqueConstraint('platform', 'domain', name=op.f('uq_shops_platform_domain')),
    sa.UniqueConstraint('public_key', name=op.f('uq_shops_public_key')),
    sa.UniqueConstraint('shop_key', name=op.f('uq_shops_shop_key'))
    )
    op.create_table('admin_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=True),
    sa.Column('created_at', bridge.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_admin_users_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_users')),
    sa.UniqueConstraint('email', name=op.f('uq_admin_users_email'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('at', bridge.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_audit_log_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('delivery_key', sa.String(length=255), nullable=False),
    sa.Column('received_at', bridge.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('triggered_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('available_at', bridge.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('processed_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_events_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    sa.UniqueConstraint('shop_id', 'delivery_key', name=op.f('uq_events_shop_id_delivery_key'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_shop_received', ['shop_id', 'received_at'], unique=False)
        batch_op.create_index('ix_events_status_available', ['status', 'available_at'], unique=False)

    op.create_table('leads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('first_name', sa.String(length=255), nullable=True),
    sa.Column('last_name', sa.String(length=255), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('accepts_marketing', sa.Boolean(), nullable=True),
    sa.Column('consent_updated_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('unsubscribed_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('profile_updated_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('source', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', bridge.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_activity_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('is_customer', sa.Boolean(), nullable=False),
    sa.Column('orders_count', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=10), nullable=False),
    sa.Column('score_computed_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('breakdown', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('redacted_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_leads_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leads')),
    sa.UniqueConstraint('shop_id', 'email', name=op.f('uq_leads_shop_id_email')),
    sa.UniqueConstraint('shop_id', 'external_id', name=op.f('uq_leads_shop_id_external_id'))
    )
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.create_index('ix_leads_shop_tier_score', ['shop_id', 'tier', 'score'], unique=False)

    op.create_table('privacy_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', bridge.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_privacy_exports_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_exports'))
    )
    op.create_table('rulesets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', bridge.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_rulesets_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rulesets')),
    sa.UniqueConstraint('shop_id', 'version', name=op.f('uq_rulesets_shop_id_version'))
    )
    op.create_table('activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('occurred_at', bridge.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source_event_id', sa.Integer(), nullable=True),
    sa.Column('ref', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_activities_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_activities_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_event_id'], ['events.id'], name=op.f('fk_activities_source_event_id_events'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities')),
    sa.UniqueConstraint('lead_id', 'kind', 'ref', name=op.f('uq_activities_lead_id_kind_ref'))
    )
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index('ix_activities_lead_occurred', ['lead_id', 'occurred_at'], unique=False)

    op.create_table('carts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('cart_token', sa.String(length=255), nullable=True),
    sa.Column('checkout_token', sa.String(length=255), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('subtotal', bridge.db.types.Money(precision=14, scale=4), nullable=False),
    sa.Column('items', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('recovery_url', sa.Text(), nullable=True),
    sa.Column('source', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('accepts_marketing', sa.Boolean(), nullable=True),
    sa.Column('created_at', bridge.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_activity_at', bridge.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('abandoned_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('converted_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('order_id', sa.String(length=64), nullable=True),
    sa.Column('order_total', bridge.db.types.Money(precision=14, scale=4), nullable=True),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_carts_lead_id_leads'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_carts_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carts')),
    sa.UniqueConstraint('shop_id', 'cart_token', name=op.f('uq_carts_shop_id_cart_token')),
    sa.UniqueConstraint('shop_id', 'checkout_token', name=op.f('uq_carts_shop_id_checkout_token'))
    )
    with op.batch_alter_table('carts', schema=None) as batch_op:
        batch_op.create_index('ix_carts_due', ['status', 'last_activity_at'], unique=False)
        batch_op.create_index('ix_carts_shop_created', ['shop_id', 'created_at'], unique=False)

    op.create_table('score_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('at', bridge.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('old_score', sa.Integer(), nullable=False),
    sa.Column('new_score', sa.Integer(), nullable=False),
    sa.Column('old_tier', sa.String(length=10), nullable=False),
    sa.Column('new_tier', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_score_changes_lead_id_leads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_changes'))
    )
    with op.batch_alter_table('score_changes', schema=None) as batch_op:
        batch_op.create_index('ix_score_changes_lead_at', ['lead_id', 'at'], unique=False)

    op.create_table('offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('cart_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', bridge.db.types.Money(precision=14, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('starts_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('send_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('platform_discount_id', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('holdout', sa.Boolean(), nullable=False),
    sa.Column('decision', sa.String(length=40), nullable=False),
    sa.Column('created_at', bridge.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('redeemed_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('order_id', sa.String(length=64), nullable=True),
    sa.Column('order_total', bridge.db.types.Money(precision=14, scale=4), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cart_id'], ['carts.id'], name=op.f('fk_offers_cart_id_carts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_offers_lead_id_leads'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_offers_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offers')),
    sa.UniqueConstraint('cart_id', name=op.f('uq_offers_cart_id')),
    sa.UniqueConstraint('shop_id', 'code', name=op.f('uq_offers_shop_id_code'))
    )
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.create_index('ix_offers_lead_created', ['lead_id', 'created_at'], unique=False)
        batch_op.create_index('ix_offers_status_expires', ['status', 'expires_at'], unique=False)

    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('cart_id', sa.Integer(), nullable=True),
    sa.Column('total', bridge.db.types.Money(precision=14, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('discount_codes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('source', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', bridge.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', bridge.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['cart_id'], ['carts.id'], name=op.f('fk_orders_cart_id_carts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_orders_lead_id_leads'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_orders_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('shop_id', 'order_id', name=op.f('uq_orders_shop_id_order_id'))
    )
    


def downgrade() -> None:
    
    op.drop_table('orders')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index('ix_offers_status_expires')
        batch_op.drop_index('ix_offers_lead_created')

    op.drop_table('offers')
    with op.batch_alter_table('score_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_score_changes_lead_at')

    op.drop_table('score_changes')
    with op.batch_alter_table('carts', schema=None) as batch_op:
        batch_op.drop_index('ix_carts_shop_created')
        batch_op.drop_index('ix_carts_due')

    op.drop_table('carts')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index('ix_activities_lead_occurred')

    op.drop_table('activities')
    op.drop_table('rulesets')
    op.drop_table('privacy_exports')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_shop_tier_score')

    op.drop_table('leads')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_status_available')
        batch_op.drop_index('ix_events_shop_received')

    op.drop_table('events')
    op.drop_table('audit_log')
    op.drop_table('admin_users')
    op.drop_table('shops')
    op.drop_table('nonces')
    
