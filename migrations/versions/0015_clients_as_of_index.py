"""The matrix as of a past date counts most clients from an index: ix_clients_as_of.

Keyed by the first day on which a client row's copies (newest tier, profile in force) are the client's tier
and profile on that day (models.clients.copies_since), with the columns the grid counts included
(PostgreSQL): for a past date the clients whose copies stand for it are one range of the index, read by an
index-only scan instead of a pass over the wide client rows, and the few others, who probe the histories,
are the range after it.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

# models.clients.COPIES_SINCE_INDEX as it is now
COPIES_SINCE = ("(\nCASE\n"
                "    WHEN tier_date IS NULL OR profile_id IS NOT NULL AND profile_effective_on IS NULL"
                " THEN '9999-12-31'\n"
                "    WHEN profile_effective_on > tier_date THEN profile_effective_on\n"
                "    ELSE tier_date\n"
                "END)")


def upgrade():
    op.create_index('ix_clients_as_of', 'clients', [sa.text(COPIES_SINCE)], unique=False,
                    postgresql_include=['tier_date', 'profile_effective_on', 'profile_id', 'id', 'opened_on',
                                        'asset_tier', 'risk_class', 'profile_valid_until', 'total_assets'])


def downgrade():
    op.drop_index('ix_clients_as_of', table_name='clients')
