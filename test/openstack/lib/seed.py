"""Seed the test cloud through its APIs (called by cloud.sh).

  seed.py identity   service project, service users, catalog (Keystone only)
  seed.py cloud      flavor, image, Ironic nodes, servers spread over the
                     computes; writes cloud.json, clouds.yaml and openrc

Settings come from the environment cloud.sh exports. Standard library only:
this runs with Debian's python3 next to the services, nothing to install.
"""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

ENV = os.environ
STATE = ENV['STATE']
HOST = '127.0.0.1'
KEYSTONE = f"http://{HOST}:{ENV['KEYSTONE_PORT']}/v3"
REGION = ENV['REGION']
ADMIN = {'user': ENV['ADMIN_USER'], 'password': ENV['ADMIN_PASSWORD'], 'project': ENV['ADMIN_PROJECT']}
SERVICE_USERS = ['nova', 'placement', 'glance', 'neutron', 'ironic', 'cinder']
COMPUTE_HOSTS = ENV['COMPUTE_HOSTS'].split()
SERVERS_PER_COMPUTE = int(ENV['SERVERS_PER_COMPUTE'])
IRONIC_NODES = int(ENV['IRONIC_NODE_COUNT'])
FLAVOR = 'shipshape.small'
IMAGE = 'shipshape-raw-1k'
NOVA_MICROVERSION = '2.74'  # `host` on create (2.74), networks "none" (2.37)
IRONIC_MICROVERSION = '1.78'

# (service type, name, URL path on its port) for the catalog.
CATALOG = [
    ('identity', 'keystone', 'KEYSTONE_PORT', '/v3'),
    ('placement', 'placement', 'PLACEMENT_PORT', ''),
    ('compute', 'nova', 'NOVA_PORT', '/v2.1'),
    ('image', 'glance', 'GLANCE_PORT', ''),
    ('network', 'neutron', 'NEUTRON_PORT', ''),
    ('baremetal', 'ironic', 'IRONIC_PORT', ''),
    # Without a project id: Cinder routes /v3/volumes for the token's project.
    ('volumev3', 'cinderv3', 'CINDER_PORT', '/v3'),
]
if ENV.get('CINDER') != 'true':
    CATALOG = [entry for entry in CATALOG if entry[0] != 'volumev3']


STARTED = time.time()


def log(message):
    print(f'[seed {time.time() - STARTED:5.1f}s] {message}', file=sys.stderr, flush=True)


class ApiError(Exception):
    pass


def call(method, url, token=None, body=None, headers=None, raw=None, expect=(200, 201, 202, 204)):
    """One request; returns (status, parsed JSON or None, response headers)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header('Accept', 'application/json')
    if data is not None:
        request.add_header('Content-Type', 'application/octet-stream' if raw is not None else 'application/json')
    if token:
        request.add_header('X-Auth-Token', token)
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, text, response_headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, text, response_headers = error.code, error.read(), error.headers
    if status not in expect:
        raise ApiError(f'{method} {url} -> {status}: {text[:500]!r}')
    return status, (json.loads(text) if text.strip() else None), response_headers


def get_token():
    body = {'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': ADMIN['user'], 'domain': {'id': 'default'}, 'password': ADMIN['password']}}},
        'scope': {'project': {'name': ADMIN['project'], 'domain': {'id': 'default'}}}}}
    _, _, headers = call('POST', f'{KEYSTONE}/auth/tokens', body=body)
    return headers['X-Subject-Token']


def find_or_create(token, collection, key, query, body):
    _, found, _ = call('GET', f'{KEYSTONE}/{collection}?{query}', token)
    if found[collection]:
        return found[collection][0]['id']
    _, created, _ = call('POST', f'{KEYSTONE}/{collection}', token, {key: body})
    return created[key]['id']


def seed_identity():
    token = get_token()
    admin_role = find_or_create(token, 'roles', 'role', 'name=admin', {'name': 'admin'})
    service_role = find_or_create(token, 'roles', 'role', 'name=service', {'name': 'service'})
    project = find_or_create(token, 'projects', 'project', 'name=service',
                             {'name': 'service', 'domain_id': 'default', 'description': 'OpenStack services'})
    for name in SERVICE_USERS:
        user = find_or_create(token, 'users', 'user', f'name={name}',
                              {'name': name, 'domain_id': 'default', 'password': ENV['SERVICE_PASSWORD']})
        for role in (admin_role, service_role):
            call('PUT', f'{KEYSTONE}/projects/{project}/users/{user}/roles/{role}', token)
    for service_type, name, port_var, path in CATALOG:
        service = find_or_create(token, 'services', 'service', f'type={service_type}',
                                 {'type': service_type, 'name': name, 'enabled': True})
        url = f'http://{HOST}:{ENV[port_var]}{path}'
        _, existing, _ = call('GET', f'{KEYSTONE}/endpoints?service_id={service}', token)
        have = {e['interface']: e for e in existing['endpoints']}
        for interface in ('public', 'internal', 'admin'):
            endpoint = have.get(interface)
            if endpoint and endpoint['url'] == url and endpoint['region_id'] == REGION:
                continue
            if endpoint:
                call('DELETE', f"{KEYSTONE}/endpoints/{endpoint['id']}", token)
            call('POST', f'{KEYSTONE}/endpoints', token, {'endpoint': {
                'service_id': service, 'interface': interface, 'url': url, 'region_id': REGION}})
    log('identity: service users and catalog ready')


def url_of(port_var, path=''):
    return f'http://{HOST}:{ENV[port_var]}{path}'


NOVA = url_of('NOVA_PORT', '/v2.1')
NOVA_HEADERS = {'OpenStack-API-Version': f'compute {NOVA_MICROVERSION}'}
IRONIC = url_of('IRONIC_PORT', '/v1')
IRONIC_HEADERS = {'X-OpenStack-Ironic-API-Version': IRONIC_MICROVERSION}
GLANCE = url_of('GLANCE_PORT', '/v2')
NEUTRON = url_of('NEUTRON_PORT', '/v2.0')
CINDER = url_of('CINDER_PORT', '/v3')
CINDER_HEADERS = {'OpenStack-API-Version': 'volume 3.70'}


def dead_processes():
    """Names of the cloud's recorded processes that have exited."""
    pid_dir = os.path.join(STATE, 'pids')
    dead = []
    for entry in sorted(os.listdir(pid_dir)):
        with open(os.path.join(pid_dir, entry)) as handle:
            pid = handle.read().strip()
        try:
            with open(f'/proc/{pid}/stat') as handle:
                alive = handle.read().rsplit(')', 1)[1].split()[0] != 'Z'
        except FileNotFoundError:
            alive = False
        if not alive:
            dead.append(entry[:-len('.pid')])
    return dead


def wait_for(what, seconds, probe, interval=0.5):
    """Polls probe until it returns something true; fails fast when one of
    the cloud's processes has died, rather than at the deadline."""
    deadline = time.time() + seconds
    while True:
        dead = dead_processes()
        if dead:
            raise ApiError(f'waiting for {what}: {", ".join(dead)} exited (see {STATE}/logs)')
        result = probe()
        if result:
            return result
        if time.time() > deadline:
            raise ApiError(f'timed out after {seconds}s waiting for {what}')
        time.sleep(interval)


def seed_flavor(token):
    _, flavors, _ = call('GET', f'{NOVA}/flavors', token, headers=NOVA_HEADERS)
    for flavor in flavors['flavors']:
        if flavor['name'] == FLAVOR:
            return flavor['id']
    _, created, _ = call('POST', f'{NOVA}/flavors', token, {'flavor': {
        'name': FLAVOR, 'id': 'shipshape-small', 'vcpus': 1, 'ram': 512, 'disk': 1}}, headers=NOVA_HEADERS)
    return created['flavor']['id']


def seed_image(token):
    _, images, _ = call('GET', f'{GLANCE}/images?name={IMAGE}', token)
    active = [i for i in images['images'] if i['status'] == 'active']
    if active:
        return active[0]['id']
    _, image, _ = call('POST', f'{GLANCE}/images', token, {
        'name': IMAGE, 'disk_format': 'raw', 'container_format': 'bare', 'visibility': 'public'})
    call('PUT', f"{GLANCE}/images/{image['id']}/file", token, raw=bytes(1024))
    return image['id']


def warm_up_neutron(token):
    # Neutron 21 may answer 500 to the first GET /v2.0/ports until another
    # query has run; Nova lists ports on delete and live migration.
    call('GET', f'{NEUTRON}/networks', token)
    call('GET', f'{NEUTRON}/ports', token)


def seed_ironic_nodes(token):
    _, nodes, _ = call('GET', f'{IRONIC}/nodes?fields=uuid,name', token, headers=IRONIC_HEADERS)
    by_name = {n['name']: n['uuid'] for n in nodes['nodes']}
    result = []
    for index in range(1, IRONIC_NODES + 1):
        name = f'bm-{index}'
        uuid = by_name.get(name)
        if not uuid:
            _, node, _ = call('POST', f'{IRONIC}/nodes', token, {
                'name': name, 'driver': 'fake-hardware', 'resource_class': 'baremetal',
                'properties': {'cpus': 8, 'memory_mb': 16384, 'local_gb': 100}}, headers=IRONIC_HEADERS)
            uuid = node['uuid']
        result.append({'uuid': uuid, 'name': name})
    # enroll -> manageable -> available, as a node that joined the fleet.
    for action, reached in (('manage', 'manageable'), ('provide', 'available')):
        for node in result:
            call('PUT', f"{IRONIC}/nodes/{node['uuid']}/states/provision", token,
                 {'target': action}, headers=IRONIC_HEADERS)
        for node in result:
            wait_node(token, node, 'provision_state', reached)
    for node in result:
        # Fake nodes report power state None until one is set.
        call('PUT', f"{IRONIC}/nodes/{node['uuid']}/states/power", token,
             {'target': 'power on'}, headers=IRONIC_HEADERS)
    for node in result:
        wait_node(token, node, 'power_state', 'power on')
    log(f'ironic: {len(result)} fake-hardware nodes, available and powered on')
    return result


def wait_node(token, node, field, wanted):
    def reached():
        _, found, _ = call('GET', f"{IRONIC}/nodes/{node['uuid']}?fields={field},last_error", token,
                           headers=IRONIC_HEADERS)
        if found.get('last_error'):
            raise ApiError(f"{node['name']}: {found['last_error']}")
        return found[field] == wanted
    wait_for(f"{node['name']} {field} {wanted}", 60, reached, interval=0.25)


def computes_up(token):
    _, services, _ = call('GET', f'{NOVA}/os-services?binary=nova-compute', token, headers=NOVA_HEADERS)
    up = {s['host'] for s in services['services'] if s['state'] == 'up'}
    return up >= set(COMPUTE_HOSTS)


def providers_reported(token):
    _, providers, _ = call('GET', url_of('PLACEMENT_PORT', '/resource_providers'), token,
                           headers={'OpenStack-API-Version': 'placement 1.14'})
    names = {p['name'] for p in providers['resource_providers']}
    return names >= set(COMPUTE_HOSTS)


def hypervisors_listed(token):
    _, hypervisors, _ = call('GET', f'{NOVA}/os-hypervisors', token, headers=NOVA_HEADERS)
    names = {h['hypervisor_hostname'] for h in hypervisors['hypervisors']}
    return names >= set(COMPUTE_HOSTS)


def start_host_discovery(token):
    """Maps the compute hosts to the cell (`nova-manage cell_v2 discover_hosts`),
    once they have reported to Placement; /os-hypervisors is empty before.
    Runs in the background: the command spends seconds importing Nova."""
    wait_for('nova-compute services up', 180, lambda: computes_up(token))
    wait_for('compute resource providers in placement', 180, lambda: providers_reported(token))
    return subprocess.Popen(ENV['DISCOVER_HOSTS_CMD'], shell=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def finish_host_discovery(token, discovery):
    output, _ = discovery.communicate(timeout=120)
    if discovery.returncode != 0:
        raise ApiError(f'discover_hosts failed: {output.decode()[-500:]}')
    wait_for('hypervisors listed', 60, lambda: hypervisors_listed(token))
    log(f'nova: {len(COMPUTE_HOSTS)} computes up and mapped')


def boot_servers(token, flavor, image):
    wanted = [(f'vm-{host}-{i}', host) for host in COMPUTE_HOSTS for i in range(1, SERVERS_PER_COMPUTE + 1)]
    _, existing, _ = call('GET', f'{NOVA}/servers/detail', token, headers=NOVA_HEADERS)
    have = {s['name'] for s in existing['servers']}
    for name, host in wanted:
        if name in have:
            continue
        call('POST', f'{NOVA}/servers', token, {'server': {
            'name': name, 'flavorRef': flavor, 'imageRef': image, 'networks': 'none', 'host': host}},
            headers=NOVA_HEADERS)

    def all_active():
        _, servers, _ = call('GET', f'{NOVA}/servers/detail', token, headers=NOVA_HEADERS)
        mine = [s for s in servers['servers'] if s['name'] in {n for n, _ in wanted}]
        failed = [s['name'] for s in mine if s['status'] == 'ERROR']
        if failed:
            raise ApiError(f'servers in ERROR: {failed}')
        if len(mine) == len(wanted) and all(s['status'] == 'ACTIVE' for s in mine):
            return mine
        return None

    servers = wait_for('servers ACTIVE', 300, all_active, interval=1)
    log(f'nova: {len(servers)} servers ACTIVE over {len(COMPUTE_HOSTS)} computes')
    return [{'id': s['id'], 'name': s['name'], 'host': s['OS-EXT-SRV-ATTR:host']}
            for s in sorted(servers, key=lambda s: s['name'])]


def volume_service_up(token):
    _, services, _ = call('GET', f'{CINDER}/os-services?binary=cinder-volume', token, headers=CINDER_HEADERS)
    return any(s['state'] == 'up' for s in services['services'])


def write_client_files(summary):
    auth = summary['auth']
    with open(os.path.join(STATE, 'clouds.yaml'), 'w') as out:
        out.write('clouds:\n'
                  f"  {summary['cloudName']}:\n"
                  '    auth:\n'
                  f"      auth_url: {auth['authUrl']}\n"
                  f"      username: {auth['username']}\n"
                  f"      password: {auth['password']}\n"
                  f"      project_name: {auth['projectName']}\n"
                  f"      user_domain_name: {auth['userDomainName']}\n"
                  f"      project_domain_name: {auth['projectDomainName']}\n"
                  f"    region_name: {summary['regionName']}\n"
                  '    interface: public\n'
                  '    identity_api_version: 3\n')
    with open(os.path.join(STATE, 'openrc'), 'w') as out:
        out.write(f"export OS_AUTH_URL={auth['authUrl']}\n"
                  f"export OS_USERNAME={auth['username']}\n"
                  f"export OS_PASSWORD={auth['password']}\n"
                  f"export OS_PROJECT_NAME={auth['projectName']}\n"
                  f"export OS_USER_DOMAIN_NAME={auth['userDomainName']}\n"
                  f"export OS_PROJECT_DOMAIN_NAME={auth['projectDomainName']}\n"
                  f"export OS_REGION_NAME={summary['regionName']}\n"
                  'export OS_INTERFACE=public\n'
                  'export OS_IDENTITY_API_VERSION=3\n')
    with open(os.path.join(STATE, 'cloud.json'), 'w') as out:
        json.dump(summary, out, indent=2)


def seed_cloud():
    token = get_token()
    warm_up_neutron(token)
    flavor = seed_flavor(token)
    image = seed_image(token)
    discovery = start_host_discovery(token)
    nodes = seed_ironic_nodes(token)
    finish_host_discovery(token, discovery)
    servers = boot_servers(token, flavor, image)
    if ENV.get('CINDER') == 'true':
        wait_for('cinder-volume up', 180, lambda: volume_service_up(token))
        log('cinder: volume service up')
    summary = {
        'cloudName': ENV['CLOUD_NAME'],
        'auth': {'authUrl': KEYSTONE, 'username': ADMIN['user'], 'password': ADMIN['password'],
                 'projectName': ADMIN['project'], 'userDomainName': 'Default', 'projectDomainName': 'Default'},
        'regionName': REGION,
        'endpoints': {service_type: url_of(port_var, path) for service_type, _, port_var, path in CATALOG},
        'computeHosts': COMPUTE_HOSTS,
        'flavor': {'id': flavor, 'name': FLAVOR},
        'image': {'id': image, 'name': IMAGE},
        'ironicNodes': nodes,
        'servers': servers,
        'stateDir': STATE,
        'cloudsYaml': os.path.join(STATE, 'clouds.yaml'),
        'openrc': os.path.join(STATE, 'openrc'),
    }
    write_client_files(summary)


def main():
    step = sys.argv[1]
    try:
        {'identity': seed_identity, 'cloud': seed_cloud}[step]()
    except ApiError as error:
        log(f'{step} failed: {error}')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
