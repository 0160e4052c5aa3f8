"""The book's grid reads an index only: (manager, tier, risk class, valid until) with the assets included.

Replaces ix_clients_manager_tier (manager, tier), whose columns it begins with.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.create_index('ix_clients_manager_grid',
                              ['manager_id', 'asset_tier', 'risk_class', 'profile_valid_until'], unique=False,
                              postgresql_include=['total_assets'])
        batch_op.drop_index('ix_clients_manager_tier')


def downgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.create_index('ix_clients_manager_tier', ['manager_id', 'asset_tier'], unique=False)
        batch_op.drop_index('ix_clients_manager_grid')
