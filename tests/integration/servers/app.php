<?php
// SPDX-License-Identifier: GPL-2.0-only
// The conformance API in PHP, one script for two servers:
//   - Apache httpd prefork + mod_php (apache.conf maps every path here, its access log with %D
//     is the server's own measure);
//   - PHP's built-in server, `php -S 127.0.0.1:PORT app.php` (the script is the router), which
//     has no timing log of its own.
// With CONFORMANCE_LOG set (environment, or Apache's SetEnv) the script appends
// "METHOD TARGET STATUS MS": from the script's start to its end, taken in a shutdown function,
// which PHP runs before it flushes the output to the server. Both ends lie inside the interval
// from the server's first read of the request to its last write of the response, so this is
// a lower bound of that interval (a loose one when the server read a long body before the
// script started, as the built-in server does).
//
// Neither server is told a length: Apache works out Content-Length itself when the whole
// response is in hand, and chunks it on HTTP/1.1 when flush() sends part of it early; the
// built-in server sends no length at all and ends every response by closing the connection.
//
// How the built-in server writes (strace, PHP 8.2): nothing while the script runs (flush()
// does not reach the socket), then sendto(head) and sendto(the whole body), HTTP/1.1 with
// Connection: close and no length, and the close: every response ends at the close. It reads
// a POST body whole before it starts the script. Apache: see apache.conf.
$t0 = hrtime(true);
$log = getenv('CONFORMANCE_LOG');
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$method = $_SERVER['REQUEST_METHOD'];

// Where the script itself makes the response's last write (the last flush() of an HTTP/1.0
// stream under Apache), the end is taken before that flush; see /stream.
$last_flush = null;
if ($log) {
    register_shutdown_function(function () use ($t0, $log, $method, &$last_flush) {
        $ms = (($last_flush ?? hrtime(true)) - $t0) / 1e6;
        file_put_contents($log, sprintf("%s %s %d %.3f\n", $method, $_SERVER['REQUEST_URI'],
                                        http_response_code(), $ms), FILE_APPEND | LOCK_EX);
    });
}
header('Content-Type: text/plain');

if ($method === 'POST' && $path === '/echo') {
    $n = strlen(file_get_contents('php://input'));
    http_response_code(201);
    echo "$n\n";
} elseif (preg_match('#^/delay/(\d+)$#', $path, $m)) {
    usleep((int)$m[1] * 1000);
    echo "delayed $m[1]\n";
} elseif (preg_match('#^/stream/(\d+)$#', $path, $m)) {
    for ($i = 0; $i < (int)$m[1]; $i++) {
        usleep(10000);
        $last_flush = hrtime(true);
        echo str_repeat('c', 100), "\n";
        flush();
    }
} elseif (str_starts_with($path, '/missing/')) {
    http_response_code(404);
    echo "not found\n";
} elseif ($path === '/boom') {
    http_response_code(500);
    echo "boom\n";
} else {
    http_response_code(404);
    echo "no route\n";
}
