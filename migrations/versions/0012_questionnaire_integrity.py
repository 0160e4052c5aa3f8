"""Questionnaire integrity: retake limits per version, and the submission a raised grade was retaken from

`questionnaire_versions.retakes_per_day` (default 3) caps a client's submissions per business day;
`risk_assessments.raised_from_id` names the previous submission when a retake within 30 days raised the
grade; `clients.profile_effective_on` copies the date the profile in force took effect (filled here from
risk_profiles), so that a matrix as of a past date probes the history only for clients whose profile is newer.
risk_assessments is append-only (triggers, migration 0002): the column is added in place with
ALTER TABLE ADD COLUMN, never by SQLite's batch copy, which would drop the triggers.

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('questionnaire_versions',
                  sa.Column('retakes_per_day', sa.Integer(), server_default=sa.text('3'), nullable=False))
    op.add_column('risk_assessments', sa.Column('raised_from_id', sa.Integer(), nullable=True))
    op.create_index('ix_risk_assessments_raised', 'risk_assessments', ['submitted_at'], unique=False,
                    sqlite_where=sa.text('raised_from_id IS NOT NULL'),
                    postgresql_where=sa.text('raised_from_id IS NOT NULL'))
    op.add_column('clients', sa.Column('profile_effective_on', sa.Date(), nullable=True))
    op.execute("UPDATE clients SET profile_effective_on = (SELECT rp.effective_on FROM risk_profiles rp"
               " WHERE rp.id = clients.profile_id) WHERE profile_id IS NOT NULL")


def downgrade():
    op.drop_index('ix_risk_assessments_raised', table_name='risk_assessments',
                  sqlite_where=sa.text('raised_from_id IS NOT NULL'),
                  postgresql_where=sa.text('raised_from_id IS NOT NULL'))
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite 3.35+ drops a column in place (a batch copy would lose the append-only and book triggers).
        op.execute('ALTER TABLE clients DROP COLUMN profile_effective_on')
        op.execute('ALTER TABLE risk_assessments DROP COLUMN raised_from_id')
        op.execute('ALTER TABLE questionnaire_versions DROP COLUMN retakes_per_day')
    else:
        op.drop_column('clients', 'profile_effective_on')
        op.drop_column('risk_assessments', 'raised_from_id')
        op.drop_column('questionnaire_versions', 'retakes_per_day')
