// iBOK's service worker ({{ language }}): the offline page when the network is gone, nothing else cached.
const CACHE = "ibok-offline-{{ language }}-v1";
const OFFLINE_URL = "{% url 'pages:offline' %}";
const ASSETS = [OFFLINE_URL{% for asset in offline_assets %}, "{{ asset }}"{% endfor %}];

self.addEventListener("install", (event) => {
    event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
    event.waitUntil(
        caches.keys()
            .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
            .then(() => self.clients.claim())
    );
});

self.addEventListener("fetch", (event) => {
    const request = event.request;
    if (request.mode === "navigate") {
        // Pages always come from the portal; only when it cannot be reached, the offline page instead.
        event.respondWith(fetch(request).catch(() => caches.match(OFFLINE_URL)));
    } else if (request.method === "GET" && ASSETS.includes(new URL(request.url).pathname)) {
        event.respondWith(caches.match(request).then((cached) => cached || fetch(request)));
    }
});
