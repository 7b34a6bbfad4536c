//! Response bodies written by blocking code (a submission's document streams its rejections
//! from the store), sent in chunks as they are written so memory does not grow with them.

use std::io::{self, Write};

use axum::body::{Body, Bytes};
use registry_service::ServiceError;

const CHUNK_BYTES: usize = 64 * 1024;

/// A body whose bytes `write` produces on a blocking thread. If `write` fails half-way, the
/// response is cut off (the client sees an incomplete body, not a well-formed lie).
pub fn blocking_body(write: impl FnOnce(&mut dyn Write) -> Result<(), ServiceError> + Send + 'static) -> Body {
    let (sender, receiver) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(4);
    tokio::task::spawn_blocking(move || {
        let mut out = ChunkWriter { sender, buffer: Vec::with_capacity(CHUNK_BYTES) };
        let written = write(&mut out)
            .and_then(|()| out.flush().map_err(|source| ServiceError::Io { context: "sending the response".into(), source }));
        if let Err(e) = written {
            tracing::warn!(error = %e, "a streamed response was cut off");
            let _ = out.sender.blocking_send(Err(io::Error::other("the response could not be completed")));
        }
    });
    Body::from_stream(futures_util::stream::unfold(
        receiver,
        |mut receiver| async move { receiver.recv().await.map(|chunk| (chunk, receiver)) },
    ))
}

struct ChunkWriter {
    sender: tokio::sync::mpsc::Sender<io::Result<Bytes>>,
    buffer: Vec<u8>,
}

impl Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK_BYTES {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES)));
        self.sender.blocking_send(Ok(chunk)).map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}
