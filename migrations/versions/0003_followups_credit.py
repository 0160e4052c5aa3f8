"""follow-ups (grades, due dates, log) and credit-report screenings

The follow-up log and the screenings with their accounts are records: append-only by trigger.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 18:41:15.021471

"""
from alembic import op
import sqlalchemy as sa

import models.types
from migrations.append_only import create_append_only, drop_append_only

APPEND_ONLY_TABLES = ("followup_logs", "credit_screenings", "credit_accounts")


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('credit_screenings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('screened_by_id', sa.Integer(), nullable=True),
    sa.Column('screened_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('computed_class', sa.String(length=10), nullable=False),
    sa.Column('final_class', sa.String(length=10), nullable=False),
    sa.Column('override_reason', sa.String(length=500), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.CheckConstraint("computed_class IN ('barred', 'subprime', 'blemished', 'normal')", name=op.f('ck_credit_screenings_computed_class')),
    sa.CheckConstraint("final_class IN ('barred', 'subprime', 'blemished', 'normal')", name=op.f('ck_credit_screenings_final_class')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_credit_screenings_client_id_clients')),
    sa.ForeignKeyConstraint(['screened_by_id'], ['users.id'], name=op.f('fk_credit_screenings_screened_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_screenings'))
    )
    with op.batch_alter_table('credit_screenings', schema=None) as batch_op:
        batch_op.create_index('ix_credit_screenings_client_screened', ['client_id', 'screened_at'], unique=False)

    op.create_table('followup_logs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('logged_on', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('grade', sa.String(length=1), nullable=False),
    sa.Column('next_due', sa.Date(), nullable=False),
    sa.Column('logged_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('phone', 'visit', 'wechat', 'email', 'meeting')", name=op.f('ck_followup_logs_channel')),
    sa.CheckConstraint("grade IN ('A', 'B', 'C', 'D', 'E')", name=op.f('ck_followup_logs_grade')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_followup_logs_client_id_clients')),
    sa.ForeignKeyConstraint(['logged_by_id'], ['users.id'], name=op.f('fk_followup_logs_logged_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_logs'))
    )
    with op.batch_alter_table('followup_logs', schema=None) as batch_op:
        batch_op.create_index('ix_followup_logs_client_logged', ['client_id', 'logged_on'], unique=False)

    op.create_table('credit_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('screening_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=4), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('current_overdue', sa.Integer(), nullable=False),
    sa.Column('history', sa.String(length=24), nullable=False),
    sa.CheckConstraint("kind IN ('card', 'loan')", name=op.f('ck_credit_accounts_kind')),
    sa.CheckConstraint("status IN ('normal', 'frozen', 'stopped', 'bad_debt', 'closed', 'settled')", name=op.f('ck_credit_accounts_status')),
    sa.CheckConstraint('current_overdue >= 0', name=op.f('ck_credit_accounts_current_overdue')),
    sa.ForeignKeyConstraint(['screening_id'], ['credit_screenings.id'], name=op.f('fk_credit_accounts_screening_id_credit_screenings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_accounts'))
    )
    with op.batch_alter_table('credit_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_accounts_screening_id'), ['screening_id'], unique=False)

    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('followup_grade', sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column('followup_due', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('credit_class', sa.String(length=10), nullable=True))
        batch_op.create_index('ix_clients_manager_followup_due', ['manager_id', 'followup_due'], unique=False)

    for table in APPEND_ONLY_TABLES:
        create_append_only(table)


def downgrade():
    for table in APPEND_ONLY_TABLES:
        drop_append_only(table)
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_index('ix_clients_manager_followup_due')
        batch_op.drop_column('credit_class')
        batch_op.drop_column('followup_due')
        batch_op.drop_column('followup_grade')

    with op.batch_alter_table('credit_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_accounts_screening_id'))

    op.drop_table('credit_accounts')
    with op.batch_alter_table('followup_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_followup_logs_client_logged')

    op.drop_table('followup_logs')
    with op.batch_alter_table('credit_screenings', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_screenings_client_screened')

    op.drop_table('credit_screenings')
