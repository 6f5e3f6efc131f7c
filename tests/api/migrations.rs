use migration::{Migrator, MigratorTrait};

use crate::helpers::on_each_backend;

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    on_each_backend(|app| async move {
        let conn = &app.db.conn;
        let applied = Migrator::get_applied_migrations(conn).await.expect("status");
        assert_eq!(applied.len(), Migrator::migrations().len());
        Migrator::down(conn, None).await.expect("down");
        assert!(Migrator::get_applied_migrations(conn).await.expect("status").is_empty());
        Migrator::up(conn, None).await.expect("up again");
        // The built-in groups are back.
        let data = app
            .data(
                "{ customerGroups(first: 10) { edges { node { name isBuiltIn } } } }",
                serde_json::json!({}),
            )
            .await;
        let names: Vec<&str> = data["customerGroups"]["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["node"]["name"].as_str())
            .collect();
        assert_eq!(names, ["Default", "Everyone"]);
    })
    .await;
}

/// Two instances starting at once on one PostgreSQL schema: both succeed,
/// and every migration is applied once (the advisory lock serializes them).
#[tokio::test]
async fn concurrent_migrations_on_postgres_apply_each_migration_once() {
    use pricegraph::db::{Db, DbOptions, Statements};
    if !crate::helpers::backends().contains(&crate::helpers::Backend::Postgres) {
        return; // PostgreSQL only: SQLite's file lock serializes migrations.
    }
    let schema = crate::helpers::TestSchema::new().await;
    let options = DbOptions {
        max_connections: 2,
        schema: Some(schema.name.clone()),
        ..DbOptions::default()
    };
    let statements = Statements::default();
    let (first, second) = (
        Db::connect(&schema.url, &options, &statements).await.expect("opens"),
        Db::connect(&schema.url, &options, &statements).await.expect("opens"),
    );
    let (a, b) = tokio::join!(first.migrate(), second.migrate());
    let applied = Migrator::get_applied_migrations(&first.conn).await.map(|m| m.len());
    first.conn.close().await.ok();
    second.conn.close().await.ok();
    a.expect("the first migration succeeds");
    b.expect("the second migration succeeds");
    assert_eq!(applied.expect("status"), Migrator::migrations().len());
}
