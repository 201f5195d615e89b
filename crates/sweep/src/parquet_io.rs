//! Atomic file writes and Parquet parts (snappy, key-value metadata), plus reading them back.

use std::ffi::OsString;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use arrow_array::{Array, RecordBatch};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

/// `<path>.<pid>.tmp`, in the same directory as `path` (so that the final rename is atomic),
/// named after the process so that processes sharing a run directory (shards, a second sweep
/// on the same `--out`) never write through each other's temporary file.
fn tmp_path(path: &Path) -> anyhow::Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("{} has no file name", path.display()))?;
    let mut tmp = OsString::from(name);
    tmp.push(format!(".{}.tmp", std::process::id()));
    Ok(path.with_file_name(tmp))
}

/// Writes `<path>.<pid>.tmp` with `write`, syncs it and renames it to `path`; removes the
/// temporary file on failure. Readers see either the old file, no file, or the complete new one.
fn write_via_tmp(
    path: &Path,
    write: impl FnOnce(File) -> anyhow::Result<File>,
) -> anyhow::Result<()> {
    write_via(path, &tmp_path(path)?, write)
}

fn write_via(
    path: &Path,
    tmp: &Path,
    write: impl FnOnce(File) -> anyhow::Result<File>,
) -> anyhow::Result<()> {
    let tmp = tmp.to_path_buf();
    let result = (|| {
        let file =
            File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let file = write(file)?;
        file.sync_all()
            .with_context(|| format!("cannot sync {}", tmp.display()))?;
        drop(file);
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes `contents` to `path` atomically (temporary file in the same directory, then rename).
pub fn write_file_atomic(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    write_via_tmp(path, |mut file| {
        file.write_all(contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(file)
    })
}

/// Writes `batch` as a snappy-compressed Parquet file at `path`, atomically: the file is written
/// as `<path>.tmp` in the same directory, closed (which writes the footer), synced and renamed.
/// `metadata` becomes the file's key-value metadata.
pub fn write_parquet_atomic(
    path: &Path,
    batch: &RecordBatch,
    metadata: &[(String, String)],
) -> anyhow::Result<()> {
    write_parquet_batches_atomic(path, std::slice::from_ref(batch), metadata)
}

/// Like [`write_parquet_atomic`] for several batches of one schema, written in order into one
/// file.
pub fn write_parquet_batches_atomic(
    path: &Path,
    batches: &[RecordBatch],
    metadata: &[(String, String)],
) -> anyhow::Result<()> {
    let first = batches
        .first()
        .with_context(|| format!("no rows to write to {}", path.display()))?;
    if let Some(k) = batches.iter().position(|b| b.schema() != first.schema()) {
        anyhow::bail!(
            "batch {k} for {} has another schema than batch 0",
            path.display()
        );
    }
    let props = writer_properties(metadata);
    write_via_tmp(path, |file| {
        let mut writer = ArrowWriter::try_new(file, first.schema(), Some(props))
            .with_context(|| format!("cannot start Parquet file {}", path.display()))?;
        for batch in batches {
            writer
                .write(batch)
                .with_context(|| format!("cannot write Parquet rows to {}", path.display()))?;
        }
        // `into_inner` flushes the last row group and writes the footer.
        writer
            .into_inner()
            .with_context(|| format!("cannot finish Parquet file {}", path.display()))
    })
}

/// Snappy compression and `metadata` as the file's key-value metadata: how every Parquet file
/// of a run is written.
fn writer_properties(metadata: &[(String, String)]) -> WriterProperties {
    let kv = metadata
        .iter()
        .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
        .collect();
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_key_value_metadata(Some(kv))
        .build()
}

/// [`writer_properties`] for a merged table: float columns byte-stream-split (each value's
/// bytes stored byte plane by byte plane) without a dictionary. Simulated floats barely
/// compress as they are; split, the merged `curves` of a 250-job sweep shrink by ~30 %, while
/// the values read back are the same bits.
fn merged_writer_properties(
    metadata: &[(String, String)],
    schema: &arrow_schema::Schema,
) -> WriterProperties {
    use arrow_schema::DataType;
    use parquet::basic::Encoding;
    use parquet::schema::types::ColumnPath;
    let mut b = writer_properties(metadata).into_builder();
    for f in schema.fields() {
        if matches!(f.data_type(), DataType::Float64 | DataType::Float32) {
            let col = ColumnPath::from(f.name().as_str());
            b = b
                .set_column_dictionary_enabled(col.clone(), false)
                .set_column_encoding(col, Encoding::BYTE_STREAM_SPLIT);
        }
    }
    b.build()
}

/// Buffered rows above this size are flushed as a row group while merging.
const MERGE_FLUSH_BYTES: usize = 64 << 20;

/// A column that some parts of a table lack, made for one of them: `fill(field, rows)` returns
/// `rows` values of `field`'s type, or `None` when the column cannot be filled (then the merge
/// is refused).
pub(crate) type Fill<'a> = &'a dyn Fn(&arrow_schema::Field, usize) -> Option<arrow_array::ArrayRef>;

/// Concatenates the Parquet files `parts` into one file at `path`, atomically, reading one part
/// at a time so that memory does not grow with the number of parts. The parts have one schema,
/// except that parts written by an older build may lack columns added since (a config key
/// added later, which the run's resume check allows only at its default): the merged file has
/// the widest part's columns, and each missing column of a part comes from `fill`; a column
/// `fill` cannot make, or a column with another type, refuses the merge with the part's name.
/// `metadata` becomes the file's key-value metadata, plus `collect_key` with the distinct values
/// (space-separated) that key has in the parts' metadata. Returns the number of rows.
pub(crate) fn merge_parquet_atomic(
    path: &Path,
    parts: &[PathBuf],
    metadata: &[(String, String)],
    collect_key: &str,
    fill: Fill<'_>,
) -> anyhow::Result<u64> {
    if parts.is_empty() {
        anyhow::bail!("no parts to merge into {}", path.display());
    }
    let open = |part: &Path| -> anyhow::Result<_> {
        let file = File::open(part).with_context(|| format!("cannot open {}", part.display()))?;
        ParquetRecordBatchReaderBuilder::try_new(file)
            .with_context(|| format!("cannot read Parquet file {}", part.display()))
    };
    // The columns only (each part's Arrow schema also carries that part's own metadata), of the
    // part with the most columns: the newest build's.
    let mut widest: Option<(PathBuf, arrow_schema::Fields)> = None;
    for part in parts {
        let fields = open(part)?.schema().fields().clone();
        if widest.as_ref().is_none_or(|(_, w)| fields.len() > w.len()) {
            widest = Some((part.clone(), fields));
        }
    }
    let (widest_part, fields) = widest.expect("parts is not empty");
    let schema = std::sync::Arc::new(arrow_schema::Schema::new(fields));
    let props = merged_writer_properties(metadata, &schema);
    let mut rows = 0_u64;
    write_via_tmp(path, |file| {
        let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props))
            .with_context(|| format!("cannot start Parquet file {}", path.display()))?;
        let mut values = std::collections::BTreeSet::new();
        for part in parts {
            let builder = open(part)?;
            if let Some(kvs) = builder.metadata().file_metadata().key_value_metadata() {
                values.extend(
                    kvs.iter()
                        .filter(|kv| kv.key == collect_key)
                        .filter_map(|kv| kv.value.clone()),
                );
            }
            let reader = builder
                .build()
                .with_context(|| format!("cannot read Parquet file {}", part.display()))?;
            for batch in reader {
                let batch = batch
                    .with_context(|| format!("cannot decode Parquet file {}", part.display()))?;
                let batch = conform(&batch, &schema, fill)
                    .and_then(|columns| Ok(RecordBatch::try_new(schema.clone(), columns)?));
                let batch = batch.with_context(|| {
                    format!(
                        "{} has other columns than {} (one schema per table)",
                        part.display(),
                        widest_part.display()
                    )
                })?;
                rows += batch.num_rows() as u64;
                writer
                    .write(&batch)
                    .with_context(|| format!("cannot write Parquet rows to {}", path.display()))?;
                if writer.in_progress_size() > MERGE_FLUSH_BYTES {
                    writer
                        .flush()
                        .with_context(|| format!("cannot write {}", path.display()))?;
                }
            }
        }
        writer.append_key_value_metadata(KeyValue::new(
            collect_key.to_owned(),
            values.into_iter().collect::<Vec<_>>().join(" "),
        ));
        writer
            .into_inner()
            .with_context(|| format!("cannot finish Parquet file {}", path.display()))
    })?;
    Ok(rows)
}

/// The columns of `batch` in `schema`'s order, missing ones made by `fill`. Refused: a column
/// `schema` does not have, one of another type, or a missing one `fill` cannot make.
fn conform(
    batch: &RecordBatch,
    schema: &arrow_schema::Schema,
    fill: Fill<'_>,
) -> anyhow::Result<Vec<arrow_array::ArrayRef>> {
    if let Some(extra) = batch
        .schema()
        .fields()
        .iter()
        .find(|f| schema.field_with_name(f.name()).is_err())
    {
        anyhow::bail!("column {:?} is in this part only", extra.name());
    }
    schema
        .fields()
        .iter()
        .map(|field| match batch.column_by_name(field.name()) {
            Some(col) if col.data_type() == field.data_type() => Ok(col.clone()),
            Some(col) => Err(anyhow!(
                "column {:?} is {} here, {} in the other parts",
                field.name(),
                col.data_type(),
                field.data_type()
            )),
            None => fill(field, batch.num_rows())
                .filter(|a| a.data_type() == field.data_type() && a.len() == batch.num_rows())
                .ok_or_else(|| {
                    anyhow!(
                        "column {:?} is missing here and is not a config value of the run",
                        field.name()
                    )
                }),
        })
        .collect()
}

/// All record batches of the Parquet file at `path`.
pub fn read_parquet(path: &Path) -> anyhow::Result<Vec<RecordBatch>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .with_context(|| format!("cannot read Parquet file {}", path.display()))?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("cannot decode Parquet file {}", path.display()))
}

/// The key-value metadata of the Parquet file at `path` (including the `ARROW:schema` entry the
/// Arrow writer adds). Entries without a value are returned with an empty value.
pub fn read_parquet_metadata(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .with_context(|| format!("cannot read Parquet file {}", path.display()))?;
    Ok(builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kvs| {
            kvs.iter()
                .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default())
}

/// Column `name` of `batch`, downcast to the concrete array type `T`, e.g.
/// `column::<Float64Array>(&batch, "value")?`. Errors name the column and the actual type.
pub fn column<'a, T: Array + 'static>(batch: &'a RecordBatch, name: &str) -> anyhow::Result<&'a T> {
    let col = batch.column_by_name(name).ok_or_else(|| {
        let names: Vec<_> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        anyhow!("no column '{name}' (columns: {})", names.join(", "))
    })?;
    col.as_any().downcast_ref::<T>().ok_or_else(|| {
        anyhow!(
            "column '{name}' has type {}, not {}",
            col.data_type(),
            std::any::type_name::<T>()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{ArrayRef, Float64Array, StringArray, UInt64Array};
    use std::sync::Arc;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "elise-sweep-unit-{tag}-{}-{}",
            std::process::id(),
            crate::fnv1a_64(format!("{:?}", std::time::SystemTime::now()).as_bytes())
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn parquet_round_trip_with_metadata() {
        let dir = temp_dir("rt");
        let batch = RecordBatch::try_from_iter([
            (
                "seed",
                Arc::new(UInt64Array::from(vec![1, 2, u64::MAX])) as ArrayRef,
            ),
            (
                "value",
                Arc::new(Float64Array::from(vec![0.5, f64::NAN, -1e300])) as ArrayRef,
            ),
            (
                "label",
                Arc::new(StringArray::from(vec![Some("a"), None, Some("ü")])) as ArrayRef,
            ),
        ])
        .unwrap();
        let path = dir.join("part.parquet");
        let meta = vec![
            ("elise.seed".to_owned(), "7".to_owned()),
            ("other".to_owned(), "x y".to_owned()),
        ];
        write_parquet_atomic(&path, &batch, &meta).unwrap();
        let back = read_parquet(&path).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].schema().fields(), batch.schema().fields());
        assert_eq!(back[0].columns(), batch.columns());
        let kv = read_parquet_metadata(&path).unwrap();
        for m in &meta {
            assert!(kv.contains(m), "{m:?} missing from {kv:?}");
        }
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["part.parquet".to_owned()]);

        let v = column::<Float64Array>(&back[0], "value").unwrap();
        assert_eq!(v.value(0), 0.5);
        let e = column::<UInt64Array>(&back[0], "value").unwrap_err();
        assert!(e.to_string().contains("has type Float64"), "{e}");
        let e = column::<UInt64Array>(&back[0], "nope").unwrap_err();
        assert!(e.to_string().contains("seed, value, label"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A merged table holds the parts' rows in order with the same bits (NaN, -0.0,
    /// subnormals included), its float columns byte-stream-split, and the collect key's values.
    #[test]
    fn merge_keeps_bits_and_splits_floats() {
        let dir = temp_dir("merge");
        let floats = [
            vec![0.1, f64::NAN, -0.0],
            vec![f64::MIN_POSITIVE / 8.0, 1e300, -7.25],
        ];
        let mut parts = Vec::new();
        for (k, xs) in floats.iter().enumerate() {
            let batch = RecordBatch::try_from_iter([
                (
                    "job",
                    Arc::new(UInt64Array::from(vec![k as u64; 3])) as ArrayRef,
                ),
                ("mse", Arc::new(Float64Array::from(xs.clone())) as ArrayRef),
            ])
            .unwrap();
            let path = dir.join(format!("part-{k}.parquet"));
            write_parquet_atomic(
                &path,
                &batch,
                &[("elise.git_commit".into(), format!("c{k}"))],
            )
            .unwrap();
            parts.push(path);
        }
        let merged = dir.join("merged.parquet");
        let rows =
            merge_parquet_atomic(&merged, &parts, &[], "elise.git_commit", &|_, _| None).unwrap();
        assert_eq!(rows, 6);
        let back: Vec<u64> = read_parquet(&merged)
            .unwrap()
            .iter()
            .flat_map(|b| {
                let v = column::<Float64Array>(b, "mse").unwrap();
                v.values().iter().map(|x| x.to_bits()).collect::<Vec<_>>()
            })
            .collect();
        let want: Vec<u64> = floats.iter().flatten().map(|x| x.to_bits()).collect();
        assert_eq!(back, want);
        let meta = ParquetRecordBatchReaderBuilder::try_new(File::open(&merged).unwrap())
            .unwrap()
            .metadata()
            .clone();
        let chunk = |name: &str| {
            meta.row_group(0)
                .columns()
                .iter()
                .find(|c| c.column_path().string() == name)
                .unwrap()
                .encodings()
                .collect::<Vec<_>>()
        };
        use parquet::basic::Encoding;
        assert!(
            chunk("mse").contains(&Encoding::BYTE_STREAM_SPLIT),
            "{:?}",
            chunk("mse")
        );
        assert!(!chunk("job").contains(&Encoding::BYTE_STREAM_SPLIT));
        let kv = read_parquet_metadata(&merged).unwrap();
        assert!(
            kv.contains(&("elise.git_commit".into(), "c0 c1".into())),
            "{kv:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn atomic_write_replaces_and_cleans_up() {
        let dir = temp_dir("atomic");
        let path = dir.join("a.txt");
        write_file_atomic(&path, b"one").unwrap();
        write_file_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        // A write into a missing directory fails without leaving anything behind.
        assert!(write_file_atomic(&dir.join("missing/b.txt"), b"x").is_err());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
