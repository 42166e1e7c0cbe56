//! The fault grammar: every documented form parses and prints back, bad specs name the
//! grammar, and intervals are flagged exactly while a fault is in force.

use super::*;

fn at() -> Location {
    Location::flag("--fault")
}

#[test]
fn documented_specs_parse_and_print_back() {
    for s in [
        "broker-down:2@10s+5s",
        "broker-down:*@1s",
        "rtt:1=50ms@5s+10s",
        "errors:produce=NOT_ENOUGH_REPLICAS*20@8s",
        "leader:0=3@12s",
    ] {
        let f = parse(s, &at()).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(f.to_string(), s);
        assert_eq!(parse(&f.to_string(), &at()).expect("reparse"), f);
    }
    let f = parse("broker-down:2@10s+5s", &at()).expect("spec");
    assert_eq!(f.kind, FaultKind::BrokerDown { broker: Some(2) });
    assert_eq!(
        (f.at, f.lasts),
        (Duration::from_secs(10), Some(Duration::from_secs(5)))
    );
    let f = parse("errors:produce=not_enough_replicas@1s", &at()).expect("spec");
    assert_eq!(
        f.kind,
        FaultKind::Errors {
            api: RDKafkaApiKey::Produce,
            error: RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
            count: 1
        }
    );
}

#[test]
fn bad_specs_say_why_and_show_the_grammar() {
    for (s, why) in [
        ("broker-down", "no `:`"),
        ("broker-down:2", "no `@`"),
        ("broker-down:x@1s", "broker \"x\" is not a whole number"),
        (
            "broker-down:99999999999@1s",
            "broker 99999999999 is out of range: BROKER must be 1..=mock_brokers",
        ),
        (
            "errors:produce=NOT_ENOUGH_REPLICAS*99999999999@1s",
            "COUNT 99999999999 is out of range: COUNT must be 1..100000",
        ),
        ("leader:99999999999=1@1s", "PARTITION must be 0..partitions"),
        ("broker-down:2@soon", "AT: invalid duration"),
        ("broker-down:2@1s+0s", "FOR must be longer than 0"),
        ("rtt:1@1s", "BROKER=LATENCY"),
        ("rtt:1=fast@1s", "LATENCY"),
        ("errors:produce=NOPE@1s", "unknown broker error \"NOPE\""),
        ("errors:teleport=NOT_ENOUGH_REPLICAS@1s", "unknown API"),
        ("errors:produce=NOT_ENOUGH_REPLICAS*0@1s", "COUNT must be"),
        ("errors:produce=NOT_ENOUGH_REPLICAS@1s+2s", "not a duration"),
        ("leader:0@1s", "PARTITION=BROKER"),
        ("quake:1@1s", "unknown fault kind"),
    ] {
        let e = parse(s, &at()).expect_err(s);
        assert!(e.message.contains(why), "{s}: {e}");
        assert!(
            e.fix
                .as_deref()
                .is_some_and(|f| f.contains("broker-down:BROKER@AT")),
            "{e}"
        );
        assert_eq!(e.location, Some(at()));
    }
}

#[test]
fn faults_are_checked_against_the_cluster_and_the_run() {
    let f = |s: &str| vec![parse(s, &at()).expect("spec")];
    let ten = Some(Duration::from_secs(10));
    assert!(check(&f("broker-down:3@1s"), false, 3, 6, ten).is_ok());
    let e = check(&f("broker-down:1@1s"), true, 3, 6, ten).expect_err("real cluster");
    assert!(e.message.contains("cannot be used with --brokers"), "{e}");
    let e = check(&f("broker-down:4@1s"), false, 3, 6, ten).expect_err("no broker 4");
    assert!(e.message.contains("broker 4 does not exist"), "{e}");
    let e = check(&f("leader:6=1@1s"), false, 3, 6, ten).expect_err("no partition 6");
    assert!(e.message.contains("partition 6 does not exist"), "{e}");
    let e = check(&f("rtt:1=5ms@10s"), false, 3, 6, ten).expect_err("after the end");
    assert!(e.message.contains("the run lasts 10s"), "{e}");
    assert!(check(&f("rtt:*=5ms@10s"), false, 3, 6, None).is_ok());
}

#[test]
fn intervals_are_flagged_while_a_fault_is_in_force() {
    let faults = vec![
        parse("broker-down:2@2s+2s", &at()).expect("spec"),
        parse("errors:produce=NOT_ENOUGH_REPLICAS*5@5500ms", &at()).expect("spec"),
        parse("rtt:1=5ms@7s", &at()).expect("spec"),
    ];
    let flagged: Vec<Option<String>> = (0..9).map(|i| label_at(&faults, i)).collect();
    assert_eq!(flagged[0..2], [None, None]);
    assert_eq!(flagged[2].as_deref(), Some("broker-down:2@2s+2s"));
    assert_eq!(flagged[3].as_deref(), Some("broker-down:2@2s+2s"));
    assert_eq!(flagged[4], None, "the outage ended at 4s");
    assert_eq!(
        flagged[5].as_deref(),
        Some("errors:produce=NOT_ENOUGH_REPLICAS*5@5.5s")
    );
    assert_eq!(flagged[6], None);
    assert_eq!(flagged[7].as_deref(), Some("rtt:1=5ms@7s"));
    assert_eq!(
        flagged[8].as_deref(),
        Some("rtt:1=5ms@7s"),
        "no FOR: to the end"
    );
}
