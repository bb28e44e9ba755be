import { Fragment } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { toast, toastError } from '../components/feedback'
import { Badge, Button, Card, Field } from '../components/ui'
import { api } from '../lib/api'
import { bytes } from '../lib/format'
import type { ImageSettings, LocalModel } from '../lib/types'

// LocalFoldersCard registers model folders already on this machine (a local
// conversion, LM Studio's models dir) under local/<name>; requests can name
// no other folder. Unregistering leaves the folder as it is.
export function LocalFoldersCard() {
  const [list, setList] = useState<LocalModel[] | null>(null)
  const [name, setName] = useState('')
  const [path, setPath] = useState('')
  const [busy, setBusy] = useState(false)
  const load = () => api.get<LocalModel[]>('/api/models/local').then((all) => setList(all.filter((m) => m.registered)), (err) => toastError(err, 'Local models'))
  useEffect(() => { void load() }, [])
  const register = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    try {
      const m = await api.post<LocalModel>('/api/models/local', { name: name.trim(), path: path.trim() })
      toast(`Registered ${m.id}`)
      setName('')
      setPath('')
      await load()
    } catch (err) {
      toastError(err, 'Could not register the folder')
    } finally {
      setBusy(false)
    }
  }
  const unregister = async (id: string) => {
    try {
      await api.del(`/api/models/${id}`)
      toast(`Unregistered ${id}; the folder is untouched`)
      await load()
    } catch (err) {
      toastError(err)
    }
  }
  return (
    <Card title="Model folders" id="local-folders">
      <div class="stack">
        <p class="muted small">A folder with config.json and .safetensors weights, e.g. a local conversion. Chats name it local/&lt;name&gt;.</p>
        <form class="stack" onSubmit={register}>
          <Field label="Name">
            <input placeholder="my-model" value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
          </Field>
          <Field label="Folder (absolute path on this machine)">
            <input class="mono" placeholder="/Users/me/models/my-model" value={path} onInput={(e) => setPath((e.currentTarget as HTMLInputElement).value)} />
          </Field>
          <div><Button type="submit" busy={busy} disabled={!name.trim() || !path.trim()}>Register folder</Button></div>
        </form>
        {list && list.length > 0 && (
          <div class="kv">
            {list.map((m) => (
              <Fragment key={m.id}>
                <span class="mono">{m.id}</span>
                <span>
                  <span class="mono small">{m.path}</span> {m.supported ? <Badge tone="good">{bytes(m.size_bytes)}</Badge> : <Badge tone="warn" title={m.unsupported_reason}>unusable</Badge>}{' '}
                  <Button variant="ghost" size="sm" onClick={() => unregister(m.id)}>Unregister</Button>
                </span>
              </Fragment>
            ))}
          </div>
        )}
      </div>
    </Card>
  )
}

const fetchModes: { value: ImageSettings['image_url_fetch']; label: string }[] = [
  { value: 'off', label: 'Off: clients send images inline' },
  { value: 'public', label: 'Public addresses only' },
  { value: 'any', label: 'Any address, this machine and the LAN too' },
]

// ImagesCard is whether the server fetches http(s) image URLs in chats.
export function ImagesCard() {
  const [set, setSet] = useState<ImageSettings | null>(null)
  useEffect(() => {
    api.get<ImageSettings>('/api/settings/images').then(setSet, (err) => toastError(err, 'Image settings'))
  }, [])
  const change = async (mode: string) => {
    try {
      setSet(await api.put<ImageSettings>('/api/settings/images', { image_url_fetch: mode }))
      toast('Image settings saved')
    } catch (err) {
      toastError(err, 'Could not save the image settings')
    }
  }
  return (
    <Card title="Images in chats" id="image-settings">
      {set && (
        <Field label="Fetch image URLs" hint="Up to 20 MB, 15 s and 3 redirects per image.">
          <select aria-label="Fetch image URLs" value={set.image_url_fetch} onChange={(e) => change((e.currentTarget as HTMLSelectElement).value)}>
            {fetchModes.map((m) => <option key={m.value} value={m.value}>{m.label}</option>)}
          </select>
        </Field>
      )}
    </Card>
  )
}
