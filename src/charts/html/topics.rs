//! The run page's "Topics" table (many-topics runs): each topic's shape, record size and
//! keys setting, counts and rates.

use super::{Cell, Page};
use crate::report::{fmt_count, fmt_mb_per_sec, fmt_rate, RunReport};

pub(super) fn topics_block(page: &mut Page, r: &RunReport) {
    if r.topics.is_empty() {
        return;
    }
    let rows: Vec<Vec<Cell>> = r
        .topics
        .iter()
        .map(|t| {
            vec![
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
            ]
        })
        .collect();
    page.heading("Topics");
    page.table(
        "topics",
        &[
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
        ],
        &rows,
    );
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
        assert!(page.contains("uniform 1B..&lt;9B&gt;"), "{page}");
    }
}
