//! The run page's "Topics" table (many-topics runs): each topic's shape, record size and
//! keys setting, counts and rates.

use super::{Cell, Page};
use crate::report::{fmt_count, fmt_mb_per_sec, fmt_rate, RunReport};

pub(super) fn topics_block(page: &mut Page, r: &RunReport) {
    if r.topics.is_empty() {
        return;
    }
    // With consumers: the slowest group's count, equal to delivered when all went well.
    let consumed = r.topics.iter().any(|t| !t.consumed.is_empty());
    let rows: Vec<Vec<Cell>> = r
        .topics
        .iter()
        .map(|t| {
            let mut row: Vec<Cell> = vec![
                t.name.clone().into(),
                t.partitions.to_string().into(),
                t.replication_factor.to_string().into(),
                t.share.to_string().into(),
                t.size.clone().into(),
                t.keys.clone().into(),
                fmt_count(t.counts.sent).into(),
                fmt_count(t.counts.delivered).into(),
                fmt_count(t.counts.failed).into(),
                fmt_rate(t.records_per_sec).into(),
                fmt_mb_per_sec(t.bytes_per_sec).into(),
            ];
            if consumed {
                let slowest = t.consumed.iter().min().copied().unwrap_or(0);
                row.insert(9, fmt_count(slowest).into());
            }
            row
        })
        .collect();
    let mut head = vec![
        "topic",
        "partitions",
        "rf",
        "share",
        "size",
        "keys",
        "sent",
        "delivered",
        "failed",
        "records/s",
        "MB/s",
    ];
    if consumed {
        head.insert(9, "consumed (slowest group)");
    }
    page.heading("Topics");
    page.table("topics", &head, &rows);
}

#[cfg(test)]
mod tests {
    use crate::charts::html::run_page;
    use crate::charts::GroupCharts;
    use crate::report::topics::TopicReport;

    #[test]
    fn the_run_page_lists_the_topics_escaped() {
        let mut r = crate::report::testing::sample_report();
        let charts = GroupCharts {
            spectrum: "<svg></svg>".into(),
            timeline: "<svg></svg>".into(),
        };
        let dir = std::path::Path::new("/nonexistent");
        assert!(!run_page(dir, &r, &charts).contains("id=\"topics\""));
        r.topics = vec![TopicReport {
            name: "<i>orders</i>".into(),
            partitions: 7,
            size: "uniform 1B..<9B>".into(),
            ..TopicReport::default()
        }];
        let page = run_page(dir, &r, &charts);
        assert!(page.contains("&lt;i&gt;orders&lt;/i&gt;"), "{page}");
        assert!(!page.contains("<i>orders"), "{page}");
        assert!(page.contains(">Topics<"), "{page}");
        assert!(!page.contains("consumed (slowest group)"), "{page}");
        r.topics[0].consumed = vec![41_234, 40_001];
        let page = run_page(dir, &r, &charts);
        assert!(page.contains("consumed (slowest group)"), "{page}");
        assert!(
            page.contains("40,001") && !page.contains("41,234"),
            "{page}"
        );
        assert!(page.contains("uniform 1B..&lt;9B&gt;"), "{page}");
    }
}
