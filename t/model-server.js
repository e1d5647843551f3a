#!/usr/bin/env node
// A scripted model server for the agent tests: it plays the model behind
// Claude Code (Anthropic Messages API) and Codex (OpenAI Responses API),
// on 127.0.0.1, following a script instead of thinking.
//
//	node model-server.js <script.json> <port-file> <pid-file> <log-file> [<pid>]
//
// It listens on a port of its own choosing, then writes that port and its
// pid to the two files (each whole, by rename). Stop it by that pid; with
// a <pid> (the test script's), it also stops by itself once that process
// is gone, so that a test script that dies leaves no server behind.
//
// The script, read again on every request so that a test may change it:
//
//	{ "conversations": [
//	    { "match": ["workstream w-lib", "iteration 2"],
//	      "turns": [
//	        { "bash": "cat \"$WS_REPORT\"" },
//	        { "write": "lib.txt", "content": "fixed\n" },
//	        { "read": "lib.txt" },
//	        { "edit": "lib.txt", "old": "fixed", "new": "done" },
//	        { "bash": "git add -A && git commit -q -m fix" },
//	        { "text": "Fixed and committed." } ] },
//	    { "match": ["workstream w-bad"], "turns": [ { "http": 500 } ] } ] }
//
// A conversation is chosen by its "match" strings, all of which must occur
// in the user's text (the prompt; tool results do not count); the first
// that matches wins. Its turn is the number of model answers already in
// the request's history, so each request gets the next step: a tool call
// (one per turn), a final text, or an HTTP error status.
//   bash:  Bash {command} / exec_command {cmd}
//   write: Write {file_path, content} / exec_command writing the file
//   read:  Read {file_path} / exec_command cat
//   edit:  Edit {file_path, old_string, new_string} (Claude only; Claude
//          Code edits only a file it has read in the same conversation)
// Relative paths are taken from the working directory the CLI names in
// its system prompt (write and edit need absolute paths in Claude Code).
// Each request is logged to the log file as one JSON line:
//   {"api", "path", "conversation", "turn", "status", "step",
//    "tool_results": [texts of the tool results in the request]}
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');

const [scriptFile, portFile, pidFile, logFile, watchPid] = process.argv.slice(2);
if (!logFile) {
	process.stderr.write('usage: model-server.js <script.json> <port-file> <pid-file> <log-file> [<pid>]\n');
	process.exit(129);
}

// The same token counts for every answer, so tests can add them up.
const USAGE = { input: 100, output: 20, cacheRead: 10, cacheCreation: 5 };

function writeWhole(file, text) {
	fs.writeFileSync(file + '.tmp', text);
	fs.renameSync(file + '.tmp', file);
}

function log(entry) {
	fs.appendFileSync(logFile, JSON.stringify(entry) + '\n');
}

function textOf(content) {
	if (typeof content === 'string')
		return content;
	if (!Array.isArray(content))
		return '';
	return content.map((b) => (typeof b === 'string' ? b : b.text || '')).join('\n');
}

// What each API's request says: the user's text, the tool results, how
// many answers the model already gave, the working directory.
function readAnthropic(req) {
	const msgs = req.messages || [];
	let user = '', answers = 0;
	const results = [];
	for (const m of msgs) {
		if (m.role === 'assistant')
			answers++;
		if (m.role !== 'user')
			continue;
		if (typeof m.content === 'string') {
			user += m.content + '\n';
			continue;
		}
		for (const b of m.content || []) {
			if (b.type === 'text')
				user += b.text + '\n';
			else if (b.type === 'tool_result')
				results.push(textOf(b.content));
		}
	}
	const system = textOf(req.system);
	const cwd = ((system.match(/working directory: ([^\n]+)/i) || [])[1] || '').trim() || undefined;
	return { user, answers, results, cwd };
}

function readOpenAI(req) {
	let user = '', answers = 0, context = '';
	const results = [];
	for (const it of req.input || []) {
		if (it.type === 'function_call' || it.type === 'custom_tool_call')
			answers++;
		else if (it.type === 'function_call_output' || it.type === 'custom_tool_call_output')
			results.push(typeof it.output === 'string' ? it.output : JSON.stringify(it.output));
		else if (it.role === 'assistant')
			answers++;
		else if (it.role === 'user') {
			const t = textOf(it.content);
			if (t.includes('<environment_context>'))
				context += t;
			else
				user += t + '\n';
		}
	}
	const cwd = (context.match(/<cwd>([^<]*)<\/cwd>/) || [])[1];
	return { user, answers, results, cwd };
}

function sse(res, event, data) {
	res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function abs(cwd, p) {
	return path.isAbsolute(p) || !cwd ? p : path.join(cwd, p);
}

function shQuote(s) {
	return "'" + s.replace(/'/g, "'\\''") + "'";
}

function answerAnthropic(res, step, seq, cwd) {
	const id = `msg_${seq}`;
	let block, stop = 'tool_use';
	if (step.bash !== undefined)
		block = { name: 'Bash', input: { command: step.bash, description: 'scripted command' } };
	else if (step.write !== undefined)
		block = { name: 'Write', input: { file_path: abs(cwd, step.write), content: step.content } };
	else if (step.read !== undefined)
		block = { name: 'Read', input: { file_path: abs(cwd, step.read) } };
	else if (step.edit !== undefined)
		block = { name: 'Edit', input: { file_path: abs(cwd, step.edit), old_string: step.old, new_string: step.new } };
	else
		stop = 'end_turn';
	res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': `req_${seq}` });
	sse(res, 'message_start', { type: 'message_start', message: {
		id, type: 'message', role: 'assistant', model: 'mock-model', content: [],
		stop_reason: null, stop_sequence: null,
		usage: { input_tokens: USAGE.input, output_tokens: 1,
			 cache_read_input_tokens: USAGE.cacheRead,
			 cache_creation_input_tokens: USAGE.cacheCreation } } });
	if (block) {
		sse(res, 'content_block_start', { type: 'content_block_start', index: 0,
			content_block: { type: 'tool_use', id: `toolu_${seq}`, name: block.name, input: {} } });
		sse(res, 'content_block_delta', { type: 'content_block_delta', index: 0,
			delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } });
	} else {
		sse(res, 'content_block_start', { type: 'content_block_start', index: 0,
			content_block: { type: 'text', text: '' } });
		sse(res, 'content_block_delta', { type: 'content_block_delta', index: 0,
			delta: { type: 'text_delta', text: step.text || 'Done.' } });
	}
	sse(res, 'content_block_stop', { type: 'content_block_stop', index: 0 });
	sse(res, 'message_delta', { type: 'message_delta',
		delta: { stop_reason: stop, stop_sequence: null },
		usage: { output_tokens: USAGE.output } });
	sse(res, 'message_stop', { type: 'message_stop' });
	res.end();
}

function answerOpenAI(res, step, seq, cwd) {
	const rid = `resp_${seq}`;
	let item;
	let cmd = step.bash;
	if (step.read !== undefined)
		cmd = `cat ${shQuote(abs(cwd, step.read))}`;
	if (step.write !== undefined)
		cmd = `printf '%s' ${shQuote(step.content)} >${shQuote(abs(cwd, step.write))}`;
	if (cmd !== undefined)
		item = { type: 'function_call', id: `fc_${seq}`, call_id: `call_${seq}`,
			 name: 'exec_command', arguments: JSON.stringify({ cmd, workdir: cwd }) };
	else
		item = { type: 'message', id: `msg_${seq}`, role: 'assistant', status: 'completed',
			 content: [{ type: 'output_text', text: step.text || 'Done.', annotations: [] }] };
	res.writeHead(200, { 'content-type': 'text/event-stream' });
	sse(res, 'response.created', { type: 'response.created', response: { id: rid } });
	sse(res, 'response.output_item.added', { type: 'response.output_item.added',
		output_index: 0, item: item.type === 'message' ? { ...item, content: [] } : { ...item, arguments: '' } });
	if (item.type === 'message')
		sse(res, 'response.output_text.delta', { type: 'response.output_text.delta',
			item_id: item.id, output_index: 0, content_index: 0, delta: item.content[0].text });
	sse(res, 'response.output_item.done', { type: 'response.output_item.done', output_index: 0, item });
	sse(res, 'response.completed', { type: 'response.completed', response: { id: rid,
		usage: { input_tokens: USAGE.input,
			 input_tokens_details: { cached_tokens: USAGE.cacheRead },
			 output_tokens: USAGE.output,
			 output_tokens_details: { reasoning_tokens: 0 },
			 total_tokens: USAGE.input + USAGE.output } } });
	res.end();
}

function httpError(res, api, status, message) {
	const body = api === 'anthropic'
		? { type: 'error', error: { type: status >= 500 ? 'api_error' : 'invalid_request_error', message } }
		: { error: { type: status >= 500 ? 'server_error' : 'invalid_request_error', message, code: null } };
	res.writeHead(status, { 'content-type': 'application/json' });
	res.end(JSON.stringify(body));
}

let seq = 0;
const server = http.createServer((req, res) => {
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		const url = req.url.split('?')[0];
		let api;
		if (req.method === 'POST' && url === '/v1/messages')
			api = 'anthropic';
		else if (req.method === 'POST' && url === '/v1/responses')
			api = 'openai';
		else {
			log({ method: req.method, path: req.url, status: req.method === 'HEAD' ? 200 : 404 });
			res.writeHead(req.method === 'HEAD' ? 200 : 404);
			res.end();
			return;
		}
		seq++;
		let body, script;
		try {
			body = JSON.parse(Buffer.concat(chunks).toString());
			script = JSON.parse(fs.readFileSync(scriptFile, 'utf8'));
		} catch (e) {
			log({ api, path: req.url, status: 500, error: String(e) });
			return httpError(res, api, 500, `model-server: ${e}`);
		}
		const r = api === 'anthropic' ? readAnthropic(body) : readOpenAI(body);
		const convs = script.conversations || [];
		const ci = convs.findIndex((c) => (c.match || []).every((m) => r.user.includes(m)));
		const step = ci < 0 ? undefined : (convs[ci].turns || [])[r.answers];
		const entry = { api, path: req.url, conversation: ci, turn: r.answers,
				tool_results: r.results };
		if (!step) {
			entry.status = 500;
			log(entry);
			return httpError(res, api, 500, ci < 0 ? 'model-server: no conversation matches the prompt'
					 : 'model-server: the script has no more turns');
		}
		entry.step = step;
		if (step.http) {
			entry.status = step.http;
			log(entry);
			return httpError(res, api, step.http, step.message || `scripted HTTP ${step.http}`);
		}
		entry.status = 200;
		log(entry);
		if (api === 'anthropic')
			answerAnthropic(res, step, seq, r.cwd);
		else
			answerOpenAI(res, step, seq, r.cwd);
	});
});

server.listen(0, '127.0.0.1', () => {
	writeWhole(pidFile, `${process.pid}\n`);
	writeWhole(portFile, `${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
if (watchPid)
	setInterval(() => {
		try {
			process.kill(Number(watchPid), 0);
		} catch (e) {
			process.exit(0);
		}
	}, 1000).unref();
