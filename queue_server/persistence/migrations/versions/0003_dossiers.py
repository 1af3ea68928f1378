"""dossiers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dossier_lookups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('kiosk', sa.String(length=64), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier_lookups'))
    )
    with op.batch_alter_table('dossier_lookups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_lookups_at'), ['at'], unique=False)

    op.create_table('dossiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('agency_code', sa.String(length=35), nullable=False),
    sa.Column('received_date', sa.Date(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('procedure_code', sa.String(length=64), nullable=True),
    sa.Column('procedure_name', sa.String(length=500), server_default='', nullable=False),
    sa.Column('field_name', sa.String(length=300), server_default='', nullable=False),
    sa.Column('owner_name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('owner_id_hash', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.Integer(), server_default='1', nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('appointment_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('apology_new_date', sa.DateTime(), nullable=True),
    sa.Column('apology_at', sa.DateTime(), nullable=True),
    sa.Column('return_counter', sa.Integer(), nullable=True),
    sa.Column('postal', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('source', sa.String(length=32), server_default='api', nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_dossiers_office_id_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossiers')),
    sa.UniqueConstraint('code', name=op.f('uq_dossiers_code'))
    )
    op.create_table('dossier_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=200), server_default='', nullable=False),
    sa.Column('action', sa.String(length=300), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_dossier_steps_dossier_id_dossiers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier_steps'))
    )
    with op.batch_alter_table('dossier_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_steps_dossier_id_at'), ['dossier_id', 'at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('dossier_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_steps_dossier_id_at'))

    op.drop_table('dossier_steps')
    op.drop_table('dossiers')
    with op.batch_alter_table('dossier_lookups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_lookups_at'))

    op.drop_table('dossier_lookups')
