//! A scripted model server on 127.0.0.1 for the real Claude Code and Codex: it speaks the
//! Anthropic Messages API (`POST /v1/messages`) and the OpenAI Responses API (`POST
//! /v1/responses`), both streamed as server-sent events, and plays a scenario of model turns.
//!
//! The server keeps no conversation state: the turn it plays is the number of model turns
//! already in the request's history, so a client's retry of a request gets the same turn again.
//! Requests without tools (a client's side requests, such as a title) get a short text.
//! Every request is kept, for tests that check what the client sent.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{Shutdown, TcpListener, TcpStream},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::Duration,
};

use serde_json::{Value, json};

/// One model turn of a scenario.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    /// Text, then tool calls, with the turn's token usage.
    Turn { text: &'static str, calls: Vec<Call>, usage: Usage },
    /// An HTTP error with this status and an error body in the API's shape.
    Error(u16),
    /// The stream starts and then stays silent until the client goes away.
    Hang,
}

/// A tool call, rendered as each client's own tool.
#[derive(Debug, Clone)]
pub(crate) enum Call {
    /// Replace `old` by `new` in the file at `path`, relative to the working directory: Claude's
    /// `Edit`, Codex's `apply_patch` (whose patch replaces the whole line holding `old`).
    Edit { path: &'static str, old_line: &'static str, new_line: &'static str },
    /// Run a shell command: Claude's `Bash`, Codex's `exec_command`.
    Command(&'static str),
}

/// The token usage of one turn, as the APIs report it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Usage {
    /// Input tokens that were neither read from nor written to the cache.
    pub(crate) input: u64,
    pub(crate) cache_read: u64,
    pub(crate) cache_write: u64,
    pub(crate) output: u64,
}

/// A running server; it stops when dropped.
pub(crate) struct ModelServer {
    port: u16,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<(String, Value)>>>,
    accept: Option<thread::JoinHandle<()>>,
}

impl ModelServer {
    /// Starts a server that plays `turns` on a free port of 127.0.0.1.
    pub(crate) fn start(turns: Vec<Reply>) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let turns = Arc::new(turns);
        let accept = {
            let (stop, requests) = (Arc::clone(&stop), Arc::clone(&requests));
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let (stop, requests, turns) =
                                (Arc::clone(&stop), Arc::clone(&requests), Arc::clone(&turns));
                            thread::spawn(move || serve(stream, &turns, &requests, &stop));
                        }
                        Err(_) => thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        Ok(Self { port, stop, requests, accept: Some(accept) })
    }

    /// Returns the server's base URL, `http://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Returns every request so far: its path and its JSON body.
    pub(crate) fn requests(&self) -> Vec<(String, Value)> {
        self.requests.lock().map(|it| it.clone()).unwrap_or_default()
    }
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(accept) = self.accept.take() {
            accept.join().ok();
        }
    }
}

/// Serves the requests of one connection until the client closes it.
fn serve(
    stream: TcpStream,
    turns: &[Reply],
    requests: &Mutex<Vec<(String, Value)>>,
    stop: &AtomicBool,
) {
    stream.set_nonblocking(false).ok();
    let Ok(reader) = stream.try_clone() else { return };
    let mut reader = BufReader::new(reader);
    let mut writer = stream;
    while let Some((path, body)) = read_request(&mut reader) {
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if let Ok(mut requests) = requests.lock() {
            requests.push((path.clone(), request.clone()));
        }
        let api = if path.starts_with("/v1/messages") && !path.contains("count_tokens") {
            Api::Anthropic
        } else if path.ends_with("/responses") {
            Api::OpenAi
        } else {
            if respond(&mut writer, 404, "application/json", b"{}").is_err() {
                return;
            }
            continue;
        };
        let reply = if request.get("tools").and_then(Value::as_array).is_none_or(Vec::is_empty) {
            Reply::Turn { text: "OK.", calls: Vec::new(), usage: SIDE_USAGE }
        } else {
            let turn = api.turns_in(&request);
            turns.get(turn).cloned().unwrap_or(Reply::Turn {
                text: "Nothing more to do.",
                calls: Vec::new(),
                usage: SIDE_USAGE,
            })
        };
        let sent = match reply {
            Reply::Turn { text, calls, usage } => {
                let events = match api {
                    Api::Anthropic => anthropic_events(text, &calls, usage, &request),
                    Api::OpenAi => openai_events(text, &calls, usage),
                };
                respond(&mut writer, 200, "text/event-stream", events.as_bytes())
            }
            Reply::Error(status) => {
                let body = api.error_body(status).to_string();
                respond(&mut writer, status, "application/json", body.as_bytes())
            }
            Reply::Hang => hang(&mut writer, stop),
        };
        if sent.is_err() {
            return;
        }
    }
}

const SIDE_USAGE: Usage = Usage { input: 1, cache_read: 0, cache_write: 0, output: 1 };

#[derive(Clone, Copy)]
enum Api {
    Anthropic,
    OpenAi,
}

impl Api {
    /// Returns how many model turns the request's history holds.
    fn turns_in(self, request: &Value) -> usize {
        match self {
            Self::Anthropic => request["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|message| message["role"] == "assistant")
                .count(),
            // A turn's output items (messages, calls, reasoning) are contiguous in the input,
            // followed by the calls' outputs or the next user message: count the runs.
            Self::OpenAi => {
                let mut runs = 0;
                let mut in_run = false;
                for item in request["input"].as_array().into_iter().flatten() {
                    let from_model = item["role"] == "assistant"
                        || matches!(
                            item["type"].as_str(),
                            Some(
                                "function_call"
                                    | "custom_tool_call"
                                    | "local_shell_call"
                                    | "reasoning"
                            )
                        );
                    if from_model && !in_run {
                        runs += 1;
                    }
                    in_run = from_model;
                }
                runs
            }
        }
    }

    fn error_body(self, status: u16) -> Value {
        let retryable = status == 429 || status >= 500;
        match self {
            Self::Anthropic => json!({"type": "error", "error": {
                "type": if retryable { "overloaded_error" } else { "invalid_request_error" },
                "message": "scripted failure"}}),
            Self::OpenAi => json!({"error": {
                "type": if retryable { "server_error" } else { "invalid_request_error" },
                "message": "scripted failure", "code": null}}),
        }
    }
}

/// Returns the server-sent events of one Anthropic Messages stream.
fn anthropic_events(text: &str, calls: &[Call], usage: Usage, request: &Value) -> String {
    let turn = Api::Anthropic.turns_in(request);
    let mut events = vec![json!({"type": "message_start", "message": {
        "id": format!("msg_{turn}"), "type": "message", "role": "assistant",
        "model": request["model"], "content": [], "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": usage.input, "cache_read_input_tokens": usage.cache_read,
                  "cache_creation_input_tokens": usage.cache_write, "output_tokens": 1}}})];
    let mut blocks = Vec::new();
    if !text.is_empty() {
        blocks.push((
            json!({"type": "text", "text": ""}),
            json!({"type": "text_delta", "text": text}),
        ));
    }
    for (call_idx, call) in calls.iter().enumerate() {
        let (name, input) = match call {
            Call::Edit { path, old_line, new_line } => {
                ("Edit", json!({"file_path": path, "old_string": old_line, "new_string": new_line}))
            }
            Call::Command(command) => {
                ("Bash", json!({"command": command, "description": "run a command"}))
            }
        };
        let id = format!("toolu_{turn}_{call_idx}");
        blocks.push((
            json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
            json!({"type": "input_json_delta", "partial_json": input.to_string()}),
        ));
    }
    for (index, (start, delta)) in blocks.into_iter().enumerate() {
        events.push(json!({"type": "content_block_start", "index": index, "content_block": start}));
        events.push(json!({"type": "content_block_delta", "index": index, "delta": delta}));
        events.push(json!({"type": "content_block_stop", "index": index}));
    }
    let stop_reason = if calls.is_empty() { "end_turn" } else { "tool_use" };
    events.push(json!({"type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": null},
        "usage": {"output_tokens": usage.output}}));
    events.push(json!({"type": "message_stop"}));
    sse(&events)
}

/// Returns the server-sent events of one OpenAI Responses stream.
fn openai_events(text: &str, calls: &[Call], usage: Usage) -> String {
    let mut items = Vec::new();
    if !text.is_empty() {
        items.push(json!({"type": "message", "role": "assistant", "id": "msg_1",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}));
    }
    for (call_idx, call) in calls.iter().enumerate() {
        let call_id = format!("call_{}_{call_idx}", text.len());
        items.push(match call {
            Call::Edit { path, old_line, new_line } => json!({
                "type": "custom_tool_call", "name": "apply_patch", "call_id": call_id,
                "id": format!("ctc_{call_idx}"),
                "input": format!("*** Begin Patch\n*** Update File: {path}\n-{old_line}\n+{new_line}\n*** End Patch\n")}),
            Call::Command(command) => json!({
                "type": "function_call", "name": "exec_command", "call_id": call_id,
                "id": format!("fc_{call_idx}"),
                "arguments": json!({"cmd": command}).to_string()}),
        });
    }
    let mut events = vec![json!({"type": "response.created", "response": {"id": "resp_1"}})];
    for item in items {
        events.push(json!({"type": "response.output_item.done", "item": item}));
    }
    // The Responses API counts cached input (read or written) inside input_tokens.
    events.push(json!({"type": "response.completed", "response": {"id": "resp_1", "usage": {
        "input_tokens": usage.input + usage.cache_read + usage.cache_write,
        "input_tokens_details": {"cached_tokens": usage.cache_read, "cache_write_tokens": usage.cache_write},
        "output_tokens": usage.output, "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.input + usage.cache_read + usage.cache_write + usage.output}}}));
    sse(&events)
}

fn sse(events: &[Value]) -> String {
    events
        .iter()
        .map(|event| format!("event: {}\ndata: {event}\n\n", event["type"].as_str().unwrap_or("")))
        .collect()
}

/// Reads one HTTP/1.1 request; returns its path and body, or `None` when the client is gone.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let path = line.split_whitespace().nth(1)?.to_owned();
    let mut length = 0;
    let mut chunked = false;
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "transfer-encoding" => chunked = value.trim().eq_ignore_ascii_case("chunked"),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line).ok()?;
            let size = usize::from_str_radix(line.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length, 0);
        reader.read_exact(&mut body).ok()?;
    }
    Some((path, body))
}

fn respond(
    writer: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    write!(
        writer,
        "HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
         cache-control: no-cache\r\n\r\n",
        if status == 200 { "OK" } else { "Error" },
        body.len()
    )?;
    writer.write_all(body)?;
    writer.flush()
}

/// Starts a stream and then sends nothing until the server stops or the client goes away.
fn hang(writer: &mut TcpStream, stop: &AtomicBool) -> std::io::Result<()> {
    write!(
        writer,
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    )?;
    writer.flush()?;
    while !stop.load(Ordering::Relaxed) {
        thread::sleep(Duration::from_millis(50));
        // An empty SSE comment would keep idle timers alive; a client that left shows as an
        // error on a zero-length probe only eventually, so poll the stop flag and leave.
        if writer.peer_addr().is_err() {
            break;
        }
    }
    writer.shutdown(Shutdown::Both).ok();
    Err(std::io::Error::other("the stream was left hanging"))
}
