"""API tokens expire: `expires_at`, set at creation (90 days by default); tokens issued before get 90 days from now

Revision ID: 0009
Revises: 0008
"""
from datetime import UTC, datetime, timedelta

from alembic import op
import sqlalchemy as sa

import models.types

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', models.types.UTCDateTime(timezone=True), nullable=True))
    expires = datetime.now(UTC) + timedelta(days=90)
    op.get_bind().execute(
        sa.text("UPDATE api_tokens SET expires_at = :expires WHERE expires_at IS NULL")
        .bindparams(sa.bindparam('expires', type_=models.types.UTCDateTime(timezone=True))),
        {"expires": expires})
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=models.types.UTCDateTime(timezone=True), nullable=False)


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
