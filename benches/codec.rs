//! Micro-benchmarks of the per-request hot path that does not touch sockets: request
//! decoding (multibulk pipelines and inline), reply encoding, and the command-table lookup
//! that dispatch does for every request.
//!
//! Run with `cargo bench --bench codec`. Measurement times are kept short on purpose: these
//! are regression guards, not a substitute for `e2e_compare`.

use std::hint::black_box;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use handoff_protocol::encode;
use handoff_protocol::request::{Limits, Parsed, RequestParser};
use handoff_server::commands::CommandTable;

/// 16 requests as `redis-benchmark -P 16` sends them: SET and GET alternating.
fn pipelined_set_get() -> Vec<u8> {
    let mut buf = BytesMut::new();
    for i in 0..16 {
        let key = format!("key:{:012}", i);
        if i % 2 == 0 {
            encode::encode_command(&mut buf, &[b"SET".as_slice(), key.as_bytes(), b"xxx"]);
        } else {
            encode::encode_command(&mut buf, &[b"GET".as_slice(), key.as_bytes()]);
        }
    }
    buf.to_vec()
}

/// Decodes every request in `buf`, returning how many were found.
fn decode_all(
    parser: &mut RequestParser,
    buf: &mut BytesMut,
    limits: &Limits,
    args: &mut Vec<Bytes>,
) -> usize {
    let mut n = 0;
    while let Ok(Parsed::Command) = parser.parse(buf, limits, args) {
        n += 1;
        black_box(&args);
    }
    n
}

/// The input buffer is rebuilt outside the timed section (`iter_batched_ref`): the server
/// reads into a buffer it keeps, so copying the request is not part of decoding.
fn bench_decode(c: &mut Criterion) {
    let limits = Limits::default();
    let mut g = c.benchmark_group("decode");

    let pipeline = pipelined_set_get();
    let mut parser = RequestParser::new();
    let mut args = Vec::new();
    assert_eq!(
        decode_all(
            &mut parser,
            &mut BytesMut::from(&pipeline[..]),
            &limits,
            &mut args
        ),
        16
    );
    g.throughput(Throughput::Elements(16));
    g.bench_function("multibulk_pipeline_16_set_get", |b| {
        b.iter_batched_ref(
            || BytesMut::from(&pipeline[..]),
            |buf| decode_all(&mut parser, buf, &limits, &mut args),
            BatchSize::SmallInput,
        )
    });

    let inline: &[u8] = b"SET key:000000000001 xxx\r\n";
    assert_eq!(
        decode_all(&mut parser, &mut BytesMut::from(inline), &limits, &mut args),
        1
    );
    g.throughput(Throughput::Elements(1));
    g.bench_function("inline_set", |b| {
        b.iter_batched_ref(
            || BytesMut::from(inline),
            |buf| decode_all(&mut parser, buf, &limits, &mut args),
            BatchSize::SmallInput,
        )
    });

    let quoted: &[u8] = b"SET \"key with space\" \"va\\x41lue\\n\"\r\n";
    assert_eq!(
        decode_all(&mut parser, &mut BytesMut::from(quoted), &limits, &mut args),
        1
    );
    g.bench_function("inline_quoted_set", |b| {
        b.iter_batched_ref(
            || BytesMut::from(quoted),
            |buf| decode_all(&mut parser, buf, &limits, &mut args),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn bench_encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let value = vec![b'x'; 64];

    g.bench_function("bulk_64B", |b| {
        b.iter(|| {
            buf.clear();
            encode::bulk(&mut buf, black_box(&value));
            black_box(buf.len())
        })
    });
    g.bench_function("integer", |b| {
        let mut i: i64 = 1_234_567;
        b.iter(|| {
            buf.clear();
            i = i.wrapping_add(1);
            encode::integer(&mut buf, black_box(i));
            black_box(buf.len())
        })
    });
    let items: Vec<Vec<u8>> = (0..10)
        .map(|i| format!("value:{i:06}").into_bytes())
        .collect();
    g.throughput(Throughput::Elements(10));
    g.bench_function("array_10_bulks", |b| {
        b.iter(|| {
            buf.clear();
            encode::array_header(&mut buf, items.len());
            for it in &items {
                encode::bulk(&mut buf, black_box(it));
            }
            black_box(buf.len())
        })
    });
    g.finish();
}

fn bench_dispatch(c: &mut Criterion) {
    let mut g = c.benchmark_group("dispatch");
    let table = CommandTable::build();
    // Upper case as clients send it: lookup lowercases into a stack buffer first.
    for name in [&b"GET"[..], b"SET", b"client"] {
        let label = format!("lookup_{}", String::from_utf8_lossy(name));
        g.bench_function(label, |b| {
            b.iter(|| black_box(table.lookup(black_box(name))))
        });
    }
    g.bench_function("table_build", |b| {
        b.iter(|| black_box(CommandTable::build().entries.len()))
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_decode, bench_encode, bench_dispatch
}
criterion_main!(benches);
