"""One-time secrets that open a login: staff invitations, client activation codes, password resets

Only each secret's SHA-256 is stored. An invitation or a reset names the login it opens, an activation code
the client it is for; issuing a new one voids the live ones of the same login or client (the two indexes).

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

import models.types

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=12), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('client_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("purpose IN ('invitation', 'activation', 'reset')", name=op.f('ck_login_tokens_purpose')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_login_tokens_client_id_clients')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_login_tokens_created_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_login_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_login_tokens_token_hash'))
    )
    with op.batch_alter_table('login_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_login_tokens_client_purpose', ['client_id', 'purpose'], unique=False)
        batch_op.create_index('ix_login_tokens_user_purpose', ['user_id', 'purpose'], unique=False)


def downgrade():
    with op.batch_alter_table('login_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_login_tokens_user_purpose')
        batch_op.drop_index('ix_login_tokens_client_purpose')
    op.drop_table('login_tokens')
