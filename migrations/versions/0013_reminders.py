"""Reminders by e-mail: the account's address and opt-out, and one delivery record per message

`users.email` is where reminders go and `users.reminders_opt_out` turns them off (the account page).
`reminder_deliveries` holds one row per recipient and event, unique, so that a notice is never sent twice
for the same event; a failed delivery keeps its error and is tried again on the next run.

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

import models.types

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('reminders_opt_out', sa.Boolean(), server_default=sa.text('false'),
                                      nullable=False))

    op.create_table(
        'reminder_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('event_key', sa.String(length=120), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('message_id', sa.String(length=200), nullable=True),
        sa.Column('first_attempt_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_attempt_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('sent_at', models.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('staff_digest', 'profile_expiring', 'warning_pending')",
                           name=op.f('ck_reminder_deliveries_kind')),
        sa.CheckConstraint("status IN ('sent', 'failed')", name=op.f('ck_reminder_deliveries_status')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reminder_deliveries_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_deliveries')),
    )
    op.create_index('uq_reminder_deliveries_event', 'reminder_deliveries', ['user_id', 'kind', 'event_key'],
                    unique=True)
    op.create_index('ix_reminder_deliveries_status', 'reminder_deliveries', ['status', 'last_attempt_at'],
                    unique=False)


def downgrade():
    op.drop_index('ix_reminder_deliveries_status', table_name='reminder_deliveries')
    op.drop_index('uq_reminder_deliveries_event', table_name='reminder_deliveries')
    op.drop_table('reminder_deliveries')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('reminders_opt_out')
        batch_op.drop_column('email')
