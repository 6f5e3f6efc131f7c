//! Column shapes shared by several tables.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{integer, json_binary, pk_uuid, timestamp_with_time_zone, uuid};

/// `id`, `metadata`, `version`, `created_at`, `updated_at`: every admin-edited row has them.
pub fn entity_table(name: &'static str) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(pk_uuid("id"))
        .col(json_binary("metadata"))
        .col(integer("version").check(Expr::col("version").gte(1)))
        .to_owned()
}

pub fn timestamps(table: &mut TableCreateStatement) -> &mut TableCreateStatement {
    table
        .col(timestamp_with_time_zone("created_at"))
        .col(timestamp_with_time_zone("updated_at"))
}

/// A uuid column referencing `to.id`, deleted with its parent.
pub fn fk(
    from_table: &'static str,
    column: &'static str,
    to: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_{column}"))
        .from(from_table, column)
        .to(to, "id")
        .on_delete(on_delete)
        .to_owned()
}

pub fn index(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(format!("idx_{table}_{}", columns.join("_"))).table(table);
    for column in columns {
        index.col(*column);
    }
    index.to_owned()
}

pub fn unique_index(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = index(table, columns);
    index.unique().name(format!("uq_{table}_{}", columns.join("_")));
    index
}

/// A junction table: a composite primary key of two uuids, each a foreign key
/// deleted with its parent, and an index on the second (the first is the
/// primary key's prefix).
pub async fn create_junction(
    manager: &SchemaManager<'_>,
    table: &'static str,
    (left, left_table): (&'static str, &'static str),
    (right, right_table): (&'static str, &'static str),
    extra: Vec<ColumnDef>,
    checks: Vec<SimpleExpr>,
) -> Result<(), DbErr> {
    let mut create = Table::create();
    create
        .table(table)
        .col(uuid(left))
        .col(uuid(right))
        .primary_key(Index::create().col(left).col(right))
        .foreign_key(&mut fk(table, left, left_table, ForeignKeyAction::Cascade))
        .foreign_key(&mut fk(table, right, right_table, ForeignKeyAction::Cascade));
    for column in extra {
        create.col(column);
    }
    create.col(timestamp_with_time_zone("created_at"));
    for check in checks {
        create.check(check);
    }
    manager.create_table(create).await?;
    manager.create_index(index(table, &[right])).await
}
