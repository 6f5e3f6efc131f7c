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
