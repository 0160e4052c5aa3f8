"""Promotion engine runs: what a run shares is stored once; a recommendation keeps the facts it was given

`promotion_runs` holds per run the cycle, the rule version that applied, the business day the engine
reasoned on and who ran it; `promotion_recommendations` keep the manager, the answer and either the
worded clauses (`detail`) or the facts they are worded from (level date, open compliance flags, the ids
of the closed evaluations considered). Existing recommendations are grouped into one run per
(cycle, rule version, time of computing) and keep their worded clauses.

Why: closing a cycle stores one recommendation per manager — ten thousand at a broker's scale — and three
foreign keys of which two were the same for every row cost as much as the engine's decisions.

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

import models.types

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _business_day(column: str) -> str:
    """SQL for the Asia/Shanghai calendar day of a stored UTC timestamp."""
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST(({column} AT TIME ZONE 'Asia/Shanghai') AS DATE)"
    return f"date(substr({column}, 1, 19), '+8 hours')"


def upgrade():
    op.create_table('promotion_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=True),
    sa.Column('rule_set_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('computed_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('run_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['cycle_id'], ['evaluation_cycles.id'], name=op.f('fk_promotion_runs_cycle_id_evaluation_cycles')),
    sa.ForeignKeyConstraint(['rule_set_id'], ['promotion_rule_sets.id'], name=op.f('fk_promotion_runs_rule_set_id_promotion_rule_sets')),
    sa.ForeignKeyConstraint(['run_by_id'], ['users.id'], name=op.f('fk_promotion_runs_run_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promotion_runs'))
    )
    with op.batch_alter_table('promotion_runs', schema=None) as batch_op:
        batch_op.create_index('ix_promotion_runs_cycle', ['cycle_id'], unique=False)

    with op.batch_alter_table('promotion_recommendations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('run_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('level_since', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('open_flags', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('evaluation_ids', sa.JSON(), nullable=True))

    op.execute(
        "INSERT INTO promotion_runs (cycle_id, rule_set_id, as_of, computed_at) "
        f"SELECT cycle_id, rule_set_id, {_business_day('computed_at')}, computed_at "
        "FROM promotion_recommendations GROUP BY cycle_id, rule_set_id, computed_at ORDER BY min(id)")
    op.execute(
        "UPDATE promotion_recommendations SET run_id = (SELECT r.id FROM promotion_runs r "
        "WHERE r.rule_set_id = promotion_recommendations.rule_set_id "
        "AND r.computed_at = promotion_recommendations.computed_at "
        "AND (r.cycle_id = promotion_recommendations.cycle_id "
        "OR (r.cycle_id IS NULL AND promotion_recommendations.cycle_id IS NULL)))")

    with op.batch_alter_table('promotion_recommendations', schema=None) as batch_op:
        batch_op.drop_index('ix_promotion_recommendations_cycle')
        batch_op.drop_index('ix_promotion_recommendations_manager_computed')
        batch_op.drop_constraint('fk_promotion_recommendations_cycle_id_evaluation_cycles', type_='foreignkey')
        batch_op.drop_constraint('fk_promotion_recommendations_rule_set_id_promotion_rule_sets', type_='foreignkey')
        batch_op.drop_column('cycle_id')
        batch_op.drop_column('rule_set_id')
        batch_op.drop_column('computed_at')
        batch_op.alter_column('run_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('detail', existing_type=sa.JSON(), nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_promotion_recommendations_run_id_promotion_runs'),
                                    'promotion_runs', ['run_id'], ['id'])
        batch_op.create_index('ix_promotion_recommendations_manager', ['manager_id', 'id'], unique=False)
        batch_op.create_index('ix_promotion_recommendations_run', ['run_id'], unique=False)


def downgrade():
    with op.batch_alter_table('promotion_recommendations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cycle_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rule_set_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('computed_at', models.types.UTCDateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE promotion_recommendations SET "
        "cycle_id = (SELECT cycle_id FROM promotion_runs r WHERE r.id = promotion_recommendations.run_id), "
        "rule_set_id = (SELECT rule_set_id FROM promotion_runs r WHERE r.id = promotion_recommendations.run_id), "
        "computed_at = (SELECT computed_at FROM promotion_runs r WHERE r.id = promotion_recommendations.run_id)")
    # Rows stored as facts have no worded clauses to go back to: the older schema requires them.
    op.execute("DELETE FROM promotion_recommendations WHERE detail IS NULL AND id NOT IN "
               "(SELECT recommendation_id FROM promotion_nominations WHERE recommendation_id IS NOT NULL)")
    op.execute("UPDATE promotion_recommendations SET detail = '{\"clauses\": []}' WHERE detail IS NULL")
    with op.batch_alter_table('promotion_recommendations', schema=None) as batch_op:
        batch_op.drop_index('ix_promotion_recommendations_run')
        batch_op.drop_index('ix_promotion_recommendations_manager')
        batch_op.drop_constraint('fk_promotion_recommendations_run_id_promotion_runs', type_='foreignkey')
        batch_op.drop_column('evaluation_ids')
        batch_op.drop_column('open_flags')
        batch_op.drop_column('level_since')
        batch_op.drop_column('run_id')
        batch_op.alter_column('detail', existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column('rule_set_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('computed_at', existing_type=models.types.UTCDateTime(timezone=True), nullable=False)
        batch_op.create_foreign_key('fk_promotion_recommendations_cycle_id_evaluation_cycles',
                                    'evaluation_cycles', ['cycle_id'], ['id'])
        batch_op.create_foreign_key('fk_promotion_recommendations_rule_set_id_promotion_rule_sets',
                                    'promotion_rule_sets', ['rule_set_id'], ['id'])
        batch_op.create_index('ix_promotion_recommendations_manager_computed', ['manager_id', 'computed_at'],
                              unique=False)
        batch_op.create_index('ix_promotion_recommendations_cycle', ['cycle_id'], unique=False)
    op.drop_table('promotion_runs')
